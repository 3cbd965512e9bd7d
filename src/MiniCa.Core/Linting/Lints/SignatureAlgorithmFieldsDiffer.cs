
namespace MiniCa.Core.Linting.Lints;

/// <summary>The outer signatureAlgorithm MUST equal the TBSCertificate signature field.</summary>
internal sealed class SignatureAlgorithmFieldsDiffer : CertificateLint
{
    public override string Name => "e_signature_algorithm_fields_differ";

    public override string Citation => "RFC 5280 §4.1.1.2";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (!context.Certificate.CertificateStructure.SignatureAlgorithm.Equals(context.Tbs.Signature))
        {
            yield return "signatureAlgorithm differs from the signature field of the TBSCertificate";
        }
    }
}
