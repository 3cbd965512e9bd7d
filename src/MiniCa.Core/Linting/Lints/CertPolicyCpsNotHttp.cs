namespace MiniCa.Core.Linting.Lints;

/// <summary>A CPS pointer qualifier is an HTTP or HTTPS URL.</summary>
internal sealed class CertPolicyCpsNotHttp : CertificateLint
{
    public override string Name => "e_cert_policy_cps_not_http";

    public override string Citation => "CA/B Forum BR §7.1.2.7.9; RFC 5280 §4.2.1.4";

    public override bool Applies(LintContext context) => context.CertificatePolicies.Count > 0;

    public override IEnumerable<string> Check(LintContext context) =>
        from policy in context.CertificatePolicies
        from cps in policy.Cps
        where !(Uri.TryCreate(cps, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        select $"the CPS pointer of policy {policy.Oid} is not an http or https URL: '{cps}'";
}
