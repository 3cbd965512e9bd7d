using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Utilities.IO.Pem;

namespace MiniCa.Core.Issuance;

/// <summary>The download formats of a certificate: PEM, DER, a PEM chain, and a certs-only PKCS#7 bundle.</summary>
public static class CertificateFormats
{
    /// <summary>PEM text of one DER certificate (RFC 7468 §5).</summary>
    public static string ToPem(byte[] der) => ToPem("CERTIFICATE", der);

    /// <summary>The leaf followed by its issuers, each as PEM (RFC 8555 §9.1 <c>application/pem-certificate-chain</c>).</summary>
    public static string ToPemChain(IEnumerable<byte[]> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var text = new StringBuilder();
        foreach (var der in chain)
        {
            text.Append(ToPem("CERTIFICATE", der));
        }

        return text.ToString();
    }

    /// <summary>
    /// A degenerate ("certs-only") PKCS#7 SignedData holding the chain (RFC 5652 §5, RFC 2315 §9.1), DER
    /// encoded, as Windows and Java import it (<c>.p7b</c>).
    /// </summary>
    public static byte[] ToPkcs7(IEnumerable<byte[]> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var certificates = new Asn1EncodableVector();
        foreach (var der in chain)
        {
            certificates.Add(X509CertificateStructure.GetInstance(der));
        }

        var signedData = new SignedData(
            new DerSet(),
            new ContentInfo(CmsObjectIdentifiers.Data, null),
            new DerSet(certificates),
            null,
            new DerSet());
        return new ContentInfo(CmsObjectIdentifiers.SignedData, signedData).GetEncoded(Asn1Encodable.Der);
    }

    /// <summary>PEM text of DER bytes under <paramref name="type"/> (RFC 7468: CERTIFICATE, CERTIFICATE REQUEST, X509 CRL).</summary>
    public static string ToPem(string type, byte[] der)
    {
        ArgumentNullException.ThrowIfNull(der);
        using var text = new StringWriter();
        using (var writer = new PemWriter(text))
        {
            writer.WriteObject(new PemObject(type, der));
        }

        return text.ToString().ReplaceLineEndings("\n");
    }
}
