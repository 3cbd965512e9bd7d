using MiniCa.Core.Issuance;

namespace MiniCa.Core.Linting.Lints;

/// <summary>A subscriber certificate asserts the policies it was issued under, never anyPolicy.</summary>
internal sealed class SubCertAnyPolicy : CertificateLint
{
    public override string Name => "e_sub_cert_any_policy";

    public override string Citation => "CA/B Forum BR §7.1.2.7.9";

    public override bool Applies(LintContext context) => !context.IsCa && context.CertificatePolicies.Count > 0;

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.CertificatePolicies.Any(p => p.Oid == CertificatePolicyStatements.AnyPolicy))
        {
            yield return "a subscriber certificate asserts anyPolicy (2.5.29.32.0)";
        }
    }
}
