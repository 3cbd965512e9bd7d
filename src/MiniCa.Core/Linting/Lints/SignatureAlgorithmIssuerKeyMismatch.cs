
namespace MiniCa.Core.Linting.Lints;

/// <summary>The signature algorithm fits the issuer's key type.</summary>
internal sealed class SignatureAlgorithmIssuerKeyMismatch : CertificateLint
{
    public override string Name => "e_signature_algorithm_issuer_key_mismatch";

    public override string Citation => "RFC 5280 §4.1.1.2; CA/B Forum BR §7.1.3.2";

    public override IEnumerable<string> Check(LintContext context)
    {
        var algorithm = context.Tbs.Signature.Algorithm.Id;
        var issuerKey = context.Issuer.SubjectPublicKeyInfo.Algorithm.Algorithm.Id;
        var ecdsa = algorithm.StartsWith("1.2.840.10045.4.3.", StringComparison.Ordinal);
        var rsa = algorithm.StartsWith("1.2.840.113549.1.1.", StringComparison.Ordinal);
        var ok = (ecdsa && issuerKey == "1.2.840.10045.2.1") || (rsa && issuerKey == "1.2.840.113549.1.1.1");
        if (!ok)
        {
            yield return $"signature algorithm {algorithm} cannot be made with the issuer's {issuerKey} key";
        }
    }
}
