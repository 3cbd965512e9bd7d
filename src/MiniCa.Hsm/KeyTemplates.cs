using MiniCa.Core.Keys;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Org.BouncyCastle.Asn1;

namespace MiniCa.Hsm;

/// <summary>
/// The attributes of every key MiniCa makes or copies (CA key pairs, and the keys of a copy between members). Every attribute is set explicitly because module defaults differ and are
/// permissive (SoftHSM2 defaults DECRYPT, UNWRAP, SIGN_RECOVER, MODIFIABLE and COPYABLE to true).
/// </summary>
internal static class KeyTemplates
{
    internal static (CKM Mechanism, List<IObjectAttribute> Public, List<IObjectAttribute> Private) For(string label, byte[] id, KeyAlgorithm algorithm, bool copyable = false)
    {
        var f = Pkcs11Modules.Factories.ObjectAttributeFactory;
        var keyType = algorithm.Family == KeyFamily.Ec ? CKK.CKK_EC : CKK.CKK_RSA;
        var publicTemplate = PublicKey(label, id, keyType);

        List<IObjectAttribute> privateTemplate =
        [
            f.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
            f.Create(CKA.CKA_KEY_TYPE, keyType),
            f.Create(CKA.CKA_TOKEN, true),
            f.Create(CKA.CKA_PRIVATE, true),
            f.Create(CKA.CKA_LABEL, label),
            f.Create(CKA.CKA_ID, id),
            // Never leaves the token in plaintext (SENSITIVE). Not EXTRACTABLE, unless made for a cluster: then it
            // may only be wrapped by a key the security officer marked CKA_TRUSTED (PKCS#11 v2.40 §4.9).
            f.Create(CKA.CKA_SENSITIVE, true),
            f.Create(CKA.CKA_EXTRACTABLE, copyable),
            f.Create(CKA.CKA_WRAP_WITH_TRUSTED, copyable),
            // Sign only.
            f.Create(CKA.CKA_SIGN, true),
            f.Create(CKA.CKA_SIGN_RECOVER, false),
            f.Create(CKA.CKA_DECRYPT, false),
            f.Create(CKA.CKA_UNWRAP, false),
            f.Create(CKA.CKA_DERIVE, false),
            // Attributes cannot be changed later (e.g. SENSITIVE cannot be weakened, PKCS#11 v2.40 §4.4).
            f.Create(CKA.CKA_MODIFIABLE, false),
            f.Create(CKA.CKA_COPYABLE, false),
            // Destroyable, so that retiring a key is possible; destroying CA keys is an audited quorum operation.
            f.Create(CKA.CKA_DESTROYABLE, true),
        ];

        if (algorithm.Family == KeyFamily.Ec)
        {
            publicTemplate.Add(f.Create(CKA.CKA_EC_PARAMS, new DerObjectIdentifier(algorithm.CurveOid!).GetDerEncoded()));
            return (CKM.CKM_EC_KEY_PAIR_GEN, publicTemplate, privateTemplate);
        }

        publicTemplate.Add(f.Create(CKA.CKA_MODULUS_BITS, (ulong)algorithm.Bits));
        // F4 = 65537 (CA/B Forum BR §6.1.6).
        publicTemplate.Add(f.Create(CKA.CKA_PUBLIC_EXPONENT, new byte[] { 0x01, 0x00, 0x01 }));
        return (CKM.CKM_RSA_PKCS_KEY_PAIR_GEN, publicTemplate, privateTemplate);
    }

    /// <summary>
    /// A CA public key object (made beside its private key, or created beside a copy of it): a token object that
    /// only verifies and cannot be changed. The key material (curve and point, or modulus size and exponent) is
    /// added by the caller.
    /// </summary>
    internal static List<IObjectAttribute> PublicKey(string label, byte[] id, CKK keyType)
    {
        var f = Pkcs11Modules.Factories.ObjectAttributeFactory;
        return
        [
            f.Create(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY),
            f.Create(CKA.CKA_KEY_TYPE, keyType),
            f.Create(CKA.CKA_TOKEN, true),
            f.Create(CKA.CKA_PRIVATE, false),
            f.Create(CKA.CKA_LABEL, label),
            f.Create(CKA.CKA_ID, id),
            f.Create(CKA.CKA_VERIFY, true),
            f.Create(CKA.CKA_VERIFY_RECOVER, false),
            f.Create(CKA.CKA_ENCRYPT, false),
            f.Create(CKA.CKA_WRAP, false),
            f.Create(CKA.CKA_DERIVE, false),
            f.Create(CKA.CKA_MODIFIABLE, false),
        ];
    }

    /// <summary>
    /// The key-encryption key a copy's source makes: AES-256, a public token object the security officer marks
    /// CKA_TRUSTED (only a trusted key may wrap keys made CKA_WRAP_WITH_TRUSTED), extractable so it can travel
    /// wrapped under the target's transport key, and able only to wrap.
    /// </summary>
    internal static List<IObjectAttribute> TrustedKek(string label)
    {
        var f = Pkcs11Modules.Factories.ObjectAttributeFactory;
        return
        [
            f.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            f.Create(CKA.CKA_VALUE_LEN, 32UL),
            f.Create(CKA.CKA_TOKEN, true),
            f.Create(CKA.CKA_PRIVATE, false),
            f.Create(CKA.CKA_LABEL, label),
            f.Create(CKA.CKA_TRUSTED, true),
            f.Create(CKA.CKA_WRAP, true),
            f.Create(CKA.CKA_UNWRAP, false),
            f.Create(CKA.CKA_ENCRYPT, false),
            f.Create(CKA.CKA_DECRYPT, false),
            f.Create(CKA.CKA_SENSITIVE, true),
            f.Create(CKA.CKA_EXTRACTABLE, true),
        ];
    }

    /// <summary>The key-encryption key as the target unwraps it: a session object that can only unwrap.</summary>
    internal static List<IObjectAttribute> UnwrappedKek()
    {
        var f = Pkcs11Modules.Factories.ObjectAttributeFactory;
        return
        [
            f.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            f.Create(CKA.CKA_TOKEN, false),
            f.Create(CKA.CKA_PRIVATE, true),
            f.Create(CKA.CKA_SENSITIVE, true),
            f.Create(CKA.CKA_EXTRACTABLE, false),
            f.Create(CKA.CKA_UNWRAP, true),
            f.Create(CKA.CKA_WRAP, false),
            f.Create(CKA.CKA_ENCRYPT, false),
            f.Create(CKA.CKA_DECRYPT, false),
        ];
    }

    /// <summary>The target's transport RSA key pair: session objects, the public half wraps, the private half unwraps.</summary>
    internal static (List<IObjectAttribute> Public, List<IObjectAttribute> Private) TransportPair(int bits)
    {
        var f = Pkcs11Modules.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> publicTemplate =
        [
            f.Create(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY),
            f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_RSA),
            f.Create(CKA.CKA_TOKEN, false),
            f.Create(CKA.CKA_WRAP, true),
            f.Create(CKA.CKA_ENCRYPT, false),
            f.Create(CKA.CKA_VERIFY, false),
            f.Create(CKA.CKA_MODULUS_BITS, (ulong)bits),
            f.Create(CKA.CKA_PUBLIC_EXPONENT, new byte[] { 0x01, 0x00, 0x01 }),
        ];
        List<IObjectAttribute> privateTemplate =
        [
            f.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
            f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_RSA),
            f.Create(CKA.CKA_TOKEN, false),
            f.Create(CKA.CKA_PRIVATE, true),
            f.Create(CKA.CKA_SENSITIVE, true),
            f.Create(CKA.CKA_EXTRACTABLE, false),
            f.Create(CKA.CKA_UNWRAP, true),
            f.Create(CKA.CKA_DECRYPT, false),
            f.Create(CKA.CKA_SIGN, false),
        ];
        return (publicTemplate, privateTemplate);
    }

    /// <summary>
    /// A CA private key as unwrapped into a new member: sensitive, never extractable from there, sign only, not
    /// modifiable. CKA_DESTROYABLE is left to the module: SoftHSM2 refuses it in an unwrap template
    /// (CKR_ATTRIBUTE_READ_ONLY).
    /// </summary>
    internal static List<IObjectAttribute> CopiedPrivateKey(string label, byte[] id, CKK keyType)
    {
        var f = Pkcs11Modules.Factories.ObjectAttributeFactory;
        return
        [
            f.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
            f.Create(CKA.CKA_KEY_TYPE, keyType),
            f.Create(CKA.CKA_TOKEN, true),
            f.Create(CKA.CKA_PRIVATE, true),
            f.Create(CKA.CKA_LABEL, label),
            f.Create(CKA.CKA_ID, id),
            f.Create(CKA.CKA_SENSITIVE, true),
            f.Create(CKA.CKA_EXTRACTABLE, false),
            f.Create(CKA.CKA_SIGN, true),
            f.Create(CKA.CKA_SIGN_RECOVER, false),
            f.Create(CKA.CKA_DECRYPT, false),
            f.Create(CKA.CKA_UNWRAP, false),
            f.Create(CKA.CKA_DERIVE, false),
            f.Create(CKA.CKA_MODIFIABLE, false),
        ];
    }
}
