namespace MiniCa.Core.Linting.Lints;

/// <summary>A certificate policy OID MUST NOT appear more than once in a certificatePolicies extension.</summary>
internal sealed class CertPolicyDuplicate : CertificateLint
{
    public override string Name => "e_cert_policy_duplicate";

    public override string Citation => "RFC 5280 §4.2.1.4";

    public override bool Applies(LintContext context) => context.CertificatePolicies.Count > 0;

    public override IEnumerable<string> Check(LintContext context) =>
        context.CertificatePolicies.GroupBy(p => p.Oid, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => $"certificate policy {g.Key} appears {g.Count()} times");
}
