using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>The AKI keyIdentifier equals the issuer's SKI.</summary>
internal sealed class AkiNotIssuerSki : CertificateLint
{
    public override string Name => "e_aki_not_issuer_ski";

    public override string Citation => "RFC 5280 §4.2.1.1";

    public override IEnumerable<string> Check(LintContext context)
    {
        var aki = context.Extension(X509Extensions.AuthorityKeyIdentifier);
        var ski = context.Issuer.GetExtensionValue(X509Extensions.SubjectKeyIdentifier);
        if (aki is not null && ski is not null)
        {
            var keyId = AuthorityKeyIdentifier.GetInstance(aki.GetParsedValue()).KeyIdentifier?.GetOctets();
            var issuerKeyId = SubjectKeyIdentifier.GetInstance(ski.GetOctets()).GetKeyIdentifier();
            if (keyId is null || !keyId.AsSpan().SequenceEqual(issuerKeyId))
            {
                yield return "authorityKeyIdentifier keyIdentifier does not equal the issuer's subjectKeyIdentifier";
            }
        }
    }
}
