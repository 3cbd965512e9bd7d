
namespace MiniCa.Core.Linting.CrlLints;

/// <summary>The outer signature algorithm equals the TBSCertList signature field.</summary>
internal sealed class CrlSignatureFieldsDiffer : CrlLint
{
    public override string Name => "e_crl_signature_fields_differ";

    public override string Citation => "RFC 5280 §5.1.1.2";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        var crl = context.Crl.CertificateList;
        if (!crl.SignatureAlgorithm.Equals(crl.TbsCertList.Signature))
        {
            yield return "signatureAlgorithm differs from the TBSCertList signature field";
        }
    }
}
