
namespace MiniCa.Core.Linting.Lints;

/// <summary>A certificate does not outlive its issuer (paths stop validating when the issuer expires).</summary>
internal sealed class ValidityOutlivesIssuer : CertificateLint
{
    public override string Name => "e_validity_outlives_issuer";

    public override string Citation => "RFC 5280 §6.1.3 (a)(2)";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (!context.IsSelfSigned && context.Certificate.NotAfter > context.Issuer.NotAfter)
        {
            yield return $"notAfter {context.Certificate.NotAfter:u} is after the issuer's notAfter {context.Issuer.NotAfter:u}";
        }
    }
}
