using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;

namespace MiniCa.Core.Signing;

/// <summary>What each <see cref="SignatureAlgorithm"/> means on the wire and which keys it fits.</summary>
public static class SignatureAlgorithms
{
    /// <summary>
    /// The algorithm a key signs with unless configured otherwise: the hash matches the curve's strength for EC
    /// (RFC 5480 §4), SHA-256 with PKCS#1 v1.5 for RSA (the most widely accepted choice, BR §7.1.3.2).
    /// </summary>
    public static SignatureAlgorithm DefaultFor(KeyAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Family switch
        {
            KeyFamily.Ec when key.Bits >= 384 => SignatureAlgorithm.EcdsaSha384,
            KeyFamily.Ec => SignatureAlgorithm.EcdsaSha256,
            _ => SignatureAlgorithm.RsaPkcs1Sha256,
        };
    }

    /// <summary>The algorithm an authority signs with: its configured <c>SignatureAlgorithm</c>, else the key's default.</summary>
    public static SignatureAlgorithm ForAuthority(Configuration.AuthorityOptions authority, KeyAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return string.IsNullOrEmpty(authority.SignatureAlgorithm)
            ? DefaultFor(key)
            : Enum.Parse<SignatureAlgorithm>(authority.SignatureAlgorithm, ignoreCase: true);
    }

    /// <summary>Whether <paramref name="algorithm"/> can be made with a key of <paramref name="key"/>.</summary>
    public static bool Fits(SignatureAlgorithm algorithm, KeyAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return IsEcdsa(algorithm) == (key.Family == KeyFamily.Ec);
    }

    /// <summary>Throws a clear error when <paramref name="algorithm"/> does not fit <paramref name="key"/>.</summary>
    public static void EnsureFits(SignatureAlgorithm algorithm, KeyAlgorithm key)
    {
        if (!Fits(algorithm, key))
        {
            throw new CaException(CaErrorKind.InvalidState, $"Signature algorithm {algorithm} cannot be made with a {key} key.");
        }
    }

    /// <summary>Whether the algorithm is an ECDSA variant.</summary>
    public static bool IsEcdsa(SignatureAlgorithm algorithm) =>
        algorithm is SignatureAlgorithm.EcdsaSha256 or SignatureAlgorithm.EcdsaSha384;

    /// <summary>The digest the algorithm hashes with, as a .NET name.</summary>
    public static System.Security.Cryptography.HashAlgorithmName Hash(SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.EcdsaSha256 or SignatureAlgorithm.RsaPkcs1Sha256 or SignatureAlgorithm.RsaPssSha256
            => System.Security.Cryptography.HashAlgorithmName.SHA256,
        SignatureAlgorithm.EcdsaSha384 or SignatureAlgorithm.RsaPkcs1Sha384 or SignatureAlgorithm.RsaPssSha384
            => System.Security.Cryptography.HashAlgorithmName.SHA384,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null),
    };

    /// <summary>The AlgorithmIdentifier placed in certificates, CRLs and OCSP responses.</summary>
    public static AlgorithmIdentifier Identifier(SignatureAlgorithm algorithm) => algorithm switch
    {
        // RFC 5758 §3.2: the parameters field MUST be absent for ECDSA.
        SignatureAlgorithm.EcdsaSha256 => new AlgorithmIdentifier(X9ObjectIdentifiers.ECDsaWithSha256),
        SignatureAlgorithm.EcdsaSha384 => new AlgorithmIdentifier(X9ObjectIdentifiers.ECDsaWithSha384),
        // RFC 4055 §5: the parameters MUST be NULL for PKCS#1 v1.5.
        SignatureAlgorithm.RsaPkcs1Sha256 => new AlgorithmIdentifier(PkcsObjectIdentifiers.Sha256WithRsaEncryption, DerNull.Instance),
        SignatureAlgorithm.RsaPkcs1Sha384 => new AlgorithmIdentifier(PkcsObjectIdentifiers.Sha384WithRsaEncryption, DerNull.Instance),
        SignatureAlgorithm.RsaPssSha256 => Pss(NistObjectIdentifiers.IdSha256, 32),
        SignatureAlgorithm.RsaPssSha384 => Pss(NistObjectIdentifiers.IdSha384, 48),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null),
    };

    private static AlgorithmIdentifier Pss(DerObjectIdentifier hash, int saltLength)
    {
        var hashId = new AlgorithmIdentifier(hash, DerNull.Instance);
        var parameters = new RsassaPssParameters(
            hashId,
            new AlgorithmIdentifier(PkcsObjectIdentifiers.IdMgf1, hashId),
            DerInteger.ValueOf(saltLength),
            DerInteger.ValueOf(1));
        return new AlgorithmIdentifier(PkcsObjectIdentifiers.IdRsassaPss, parameters);
    }
}
