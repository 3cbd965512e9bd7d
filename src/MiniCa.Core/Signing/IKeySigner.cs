using MiniCa.Core.Keys;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;

namespace MiniCa.Core.Signing;

/// <summary>
/// The one door to a signing key. The private half stays wherever the implementation keeps it (an HSM); callers
/// get the public key and signatures, never key material.
/// </summary>
public interface IKeySigner
{
    /// <summary>The logical key name (e.g. <c>root</c>, <c>issuing</c>).</summary>
    string KeyName { get; }

    /// <summary>An address of the key, e.g. an RFC 7512 <c>pkcs11:</c> URI.</summary>
    string KeyUri { get; }

    /// <summary>The key's identifier in lowercase hex (PKCS#11 <c>CKA_ID</c>), set when it was generated; empty when it has none.</summary>
    string KeyId { get; }

    /// <summary>The key's algorithm.</summary>
    KeyAlgorithm Algorithm { get; }

    /// <summary>The public half of the key.</summary>
    AsymmetricKeyParameter PublicKey { get; }

    /// <summary>The public key as it appears in a certificate.</summary>
    SubjectPublicKeyInfo PublicKeyInfo { get; }

    /// <summary>
    /// Signs <paramref name="data"/> (hashing it as the algorithm says) and returns the signature in its X.509
    /// encoding: DER <c>SEQUENCE { r, s }</c> for ECDSA, the raw octets for RSA.
    /// </summary>
    byte[] Sign(SignatureAlgorithm algorithm, ReadOnlySpan<byte> data);
}
