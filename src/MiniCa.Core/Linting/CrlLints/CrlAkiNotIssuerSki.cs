using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.CrlLints;

/// <summary>Conforming CRL issuers MUST include an AKI equal to the issuer's SKI.</summary>
internal sealed class CrlAkiNotIssuerSki : CrlLint
{
    public override string Name => "e_crl_aki_not_issuer_ski";

    public override string Citation => "RFC 5280 §5.2.1";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        var aki = context.Crl.GetExtensionValue(X509Extensions.AuthorityKeyIdentifier);
        var ski = context.Issuer.GetExtensionValue(X509Extensions.SubjectKeyIdentifier);
        if (aki is null)
        {
            yield return "authorityKeyIdentifier is missing";
        }
        else if (ski is not null && !AuthorityKeyIdentifier.GetInstance(Asn1Object.FromByteArray(aki.GetOctets())).KeyIdentifier.GetOctets()
                     .AsSpan().SequenceEqual(SubjectKeyIdentifier.GetInstance(ski.GetOctets()).GetKeyIdentifier()))
        {
            yield return "authorityKeyIdentifier does not equal the issuer's subjectKeyIdentifier";
        }
    }
}
