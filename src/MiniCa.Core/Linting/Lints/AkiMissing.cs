using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>authorityKeyIdentifier MUST be present except in self-signed certificates.</summary>
internal sealed class AkiMissing : CertificateLint
{
    public override string Name => "e_aki_missing";

    public override string Citation => "RFC 5280 §4.2.1.1";

    public override IEnumerable<string> Check(LintContext context)
    {
        var selfSigned = context.IsSelfSigned;
        if (!selfSigned && context.Extension(X509Extensions.AuthorityKeyIdentifier) is null)
        {
            yield return "authorityKeyIdentifier is missing";
        }
    }
}
