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
    private readonly HsmMember _member;

    internal Pkcs11Signer(HsmMember member, string keyName, string keyUri, KeyAlgorithm algorithm, SubjectPublicKeyInfo publicKeyInfo)
    {
        _member = member;
        KeyName = keyName;
        KeyUri = keyUri;
        Algorithm = algorithm;
        PublicKeyInfo = publicKeyInfo;
        PublicKey = PublicKeyFactory.CreateKey(publicKeyInfo);
    }

    public string KeyName { get; }

    public string KeyUri { get; }

    public KeyAlgorithm Algorithm { get; }

    public AsymmetricKeyParameter PublicKey { get; }

    public SubjectPublicKeyInfo PublicKeyInfo { get; }

    public byte[] Sign(SignatureAlgorithm algorithm, ReadOnlySpan<byte> data)
    {
        SignatureAlgorithms.EnsureFits(algorithm, Algorithm);
        var action = $"sign with key '{KeyName}'";
        switch (algorithm)
        {
            case SignatureAlgorithm.EcdsaSha256 or SignatureAlgorithm.EcdsaSha384:
            {
                // SoftHSM2 (and several HSMs) lack CKM_ECDSA_SHA256/384: hash here, sign the digest with CKM_ECDSA.
                var digest = algorithm == SignatureAlgorithm.EcdsaSha256 ? SHA256.HashData(data) : SHA384.HashData(data);
                var raw = _member.Execute(action, session => SignWith(session, CKM.CKM_ECDSA, null, digest));
                return EcdsaSignatureEncoding.RawToDer(raw);
            }

            case SignatureAlgorithm.RsaPkcs1Sha256 or SignatureAlgorithm.RsaPkcs1Sha384:
            {
                var mechanism = algorithm == SignatureAlgorithm.RsaPkcs1Sha256 ? CKM.CKM_SHA256_RSA_PKCS : CKM.CKM_SHA384_RSA_PKCS;
                var bytes = data.ToArray();
                return _member.Execute(action, session => SignWith(session, mechanism, null, bytes));
            }

            case SignatureAlgorithm.RsaPssSha256 or SignatureAlgorithm.RsaPssSha384:
            {
                // RFC 4055 §3.1 parameters: MGF1 with the message hash, salt as long as the hash.
                var sha256 = algorithm == SignatureAlgorithm.RsaPssSha256;
                var parameters = (sha256 ? CKM.CKM_SHA256 : CKM.CKM_SHA384, sha256 ? CKG.CKG_MGF1_SHA256 : CKG.CKG_MGF1_SHA384, sha256 ? 32UL : 48UL);
                var mechanism = sha256 ? CKM.CKM_SHA256_RSA_PKCS_PSS : CKM.CKM_SHA384_RSA_PKCS_PSS;
                var bytes = data.ToArray();
                return _member.Execute(action, session => SignWith(session, mechanism, parameters, bytes));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null);
        }
    }

    private byte[] SignWith(ISession session, CKM mechanismType, (CKM Hash, CKG Mgf, ulong Salt)? pss, byte[] data)
    {
        var key = _member.FindObject(session, CKO.CKO_PRIVATE_KEY, KeyName);
        var factories = Pkcs11Modules.Factories;
        using var mechanism = pss is { } p
            ? factories.MechanismFactory.Create(
                mechanismType,
                factories.MechanismParamsFactory.CreateCkRsaPkcsPssParams((ulong)p.Hash, (ulong)p.Mgf, p.Salt))
            : factories.MechanismFactory.Create(mechanismType);
        return session.Sign(mechanism, key, data);
    }
}
