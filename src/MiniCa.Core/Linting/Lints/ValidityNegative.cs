
namespace MiniCa.Core.Linting.Lints;

/// <summary>The validity period ends after it starts.</summary>
internal sealed class ValidityNegative : CertificateLint
{
    public override string Name => "e_validity_negative";

    public override string Citation => "RFC 5280 §4.1.2.5";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.NotAfter <= context.Certificate.NotBefore)
        {
            yield return "notAfter is not later than notBefore";
        }
    }
}
