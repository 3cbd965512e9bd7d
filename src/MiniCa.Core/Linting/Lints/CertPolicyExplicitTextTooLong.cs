namespace MiniCa.Core.Linting.Lints;

/// <summary>A user notice's explicitText has a maximum size of 200 characters.</summary>
internal sealed class CertPolicyExplicitTextTooLong : CertificateLint
{
    public override string Name => "e_cert_policy_explicit_text_too_long";

    public override string Citation => "RFC 5280 §4.2.1.4";

    public override bool Applies(LintContext context) => context.CertificatePolicies.Count > 0;

    public override IEnumerable<string> Check(LintContext context) =>
        from policy in context.CertificatePolicies
        from text in policy.ExplicitTexts
        where text.Text.Length > 200
        select $"the notice of policy {policy.Oid} has {text.Text.Length} characters; explicitText has at most 200";
}
