using System.Collections.Concurrent;
using System.Security.Cryptography;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace MiniCa.Hsm;

/// <summary>Signs with a private key that stays in a PKCS#11 token.</summary>
internal sealed class Pkcs11Signer : IKeySigner
{
    /// <summary>
    /// One mechanism object per signature algorithm for the whole process: C_SignInit only reads it, so threads
    /// share it, and the hot path allocates no unmanaged parameter block per signature.
    /// </summary>
    private static readonly ConcurrentDictionary<SignatureAlgorithm, IMechanism> Mechanisms = new();

    private readonly HsmMember _member;
    private readonly string _action;

    internal Pkcs11Signer(HsmMember member, string keyName, string keyUri, string keyId, KeyAlgorithm algorithm, SubjectPublicKeyInfo publicKeyInfo)
    {
        _member = member;
        KeyName = keyName;
        KeyUri = keyUri;
        KeyId = keyId;
        Algorithm = algorithm;
        PublicKeyInfo = publicKeyInfo;
        PublicKey = PublicKeyFactory.CreateKey(publicKeyInfo);
        _action = $"sign with key '{keyName}'";
    }

    public string KeyName { get; }

    public string KeyUri { get; }

    public string KeyId { get; }

    public KeyAlgorithm Algorithm { get; }

    public AsymmetricKeyParameter PublicKey { get; }

    public SubjectPublicKeyInfo PublicKeyInfo { get; }

    public byte[] Sign(SignatureAlgorithm algorithm, ReadOnlySpan<byte> data)
    {
        SignatureAlgorithms.EnsureFits(algorithm, Algorithm);
        var action = _action;
        var mechanism = Mechanisms.GetOrAdd(algorithm, CreateMechanism);
        if (SignatureAlgorithms.IsEcdsa(algorithm))
        {
            // SoftHSM2 (and several HSMs) lack CKM_ECDSA_SHA256/384: hash here, sign the digest with CKM_ECDSA.
            return SignDigest(algorithm, EcdsaDigest(algorithm, data));
        }

        var bytes = data.ToArray();
        return _member.Execute(action, session => SignWith(session, mechanism, bytes));
    }

    /// <summary>The digest CKM_ECDSA signs for <paramref name="algorithm"/>.</summary>
    internal static byte[] EcdsaDigest(SignatureAlgorithm algorithm, ReadOnlySpan<byte> data) =>
        algorithm == SignatureAlgorithm.EcdsaSha256 ? SHA256.HashData(data) : SHA384.HashData(data);

    /// <summary>Signs an ECDSA digest made by <see cref="EcdsaDigest"/> (the cluster hashes once, whichever member signs).</summary>
    internal byte[] SignDigest(SignatureAlgorithm algorithm, byte[] digest)
    {
        SignatureAlgorithms.EnsureFits(algorithm, Algorithm);
        var mechanism = Mechanisms.GetOrAdd(algorithm, CreateMechanism);
        var raw = _member.Execute(_action, session => SignWith(session, mechanism, digest));
        return EcdsaSignatureEncoding.RawToDer(raw);
    }

    private static IMechanism CreateMechanism(SignatureAlgorithm algorithm)
    {
        var factories = Pkcs11Modules.Factories;
        return algorithm switch
        {
            SignatureAlgorithm.EcdsaSha256 or SignatureAlgorithm.EcdsaSha384 => factories.MechanismFactory.Create(CKM.CKM_ECDSA),
            SignatureAlgorithm.RsaPkcs1Sha256 => factories.MechanismFactory.Create(CKM.CKM_SHA256_RSA_PKCS),
            SignatureAlgorithm.RsaPkcs1Sha384 => factories.MechanismFactory.Create(CKM.CKM_SHA384_RSA_PKCS),
            // RFC 4055 §3.1 parameters: MGF1 with the message hash, salt as long as the hash.
            SignatureAlgorithm.RsaPssSha256 => factories.MechanismFactory.Create(
                CKM.CKM_SHA256_RSA_PKCS_PSS,
                factories.MechanismParamsFactory.CreateCkRsaPkcsPssParams((ulong)CKM.CKM_SHA256, (ulong)CKG.CKG_MGF1_SHA256, 32)),
            SignatureAlgorithm.RsaPssSha384 => factories.MechanismFactory.Create(
                CKM.CKM_SHA384_RSA_PKCS_PSS,
                factories.MechanismParamsFactory.CreateCkRsaPkcsPssParams((ulong)CKM.CKM_SHA384, (ulong)CKG.CKG_MGF1_SHA384, 48)),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null),
        };
    }

    private byte[] SignWith(ISession session, IMechanism mechanism, byte[] data) =>
        session.Sign(mechanism, _member.FindObject(session, CKO.CKO_PRIVATE_KEY, KeyName), data);
}
