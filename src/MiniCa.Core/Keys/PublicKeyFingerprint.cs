using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Keys;

/// <summary>
/// The SHA-256 of a SubjectPublicKeyInfo's DER, in lowercase hex: how the issuance database names a subscriber's
/// key, to find every certificate of it and to refuse it once blocked.
/// </summary>
public static class PublicKeyFingerprint
{
    /// <summary>The fingerprint of <paramref name="publicKey"/>.</summary>
    public static string Sha256(SubjectPublicKeyInfo publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        return Convert.ToHexStringLower(SHA256.HashData(publicKey.GetEncoded(Asn1Encodable.Der)));
    }

    /// <summary>The fingerprint of the key a TBSCertificate (DER) certifies.</summary>
    public static string Sha256OfTbs(byte[] tbsDer) => Sha256(TbsCertificateStructure.GetInstance(Asn1Object.FromByteArray(tbsDer)).SubjectPublicKeyInfo);
}
