using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Authority.Issuance;

/// <summary>
/// Signs TBS certificates with a key that exists only in this process, so the linter examines a complete
/// certificate before anything reaches the HSM (Boulder's lint-before-sign). The signature is never verified or
/// delivered; one fast P-256 key serves every issuer algorithm, and the certificate keeps the issuer's
/// signature AlgorithmIdentifier so the TBS bytes are exactly those the HSM will sign.
/// </summary>
internal sealed class ThrowAwaySigner : IDisposable
{
    private readonly ThreadLocal<ECDsa> _key = new(() => ECDsa.Create(ECCurve.NamedCurves.nistP256), trackAllValues: true);

    /// <summary>A throw-away signature over <paramref name="data"/> (for linting CRLs and certificates).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => _key.Value!.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>The DER certificate made of <paramref name="tbs"/> and a throw-away signature.</summary>
    public byte[] Certificate(TbsCertificateStructure tbs, byte[] tbsDer)
    {
        var signature = Sign(tbsDer);
        return new X509CertificateStructure(tbs, tbs.Signature, new DerBitString(signature)).GetEncoded(Asn1Encodable.Der);
    }

    public void Dispose()
    {
        foreach (var key in _key.Values)
        {
            key.Dispose();
        }

        _key.Dispose();
    }
}
