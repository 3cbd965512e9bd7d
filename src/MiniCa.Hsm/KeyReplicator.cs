using System.Security.Cryptography;
using MiniCa.Core.Errors;
using MiniCa.Core.Signing;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Security;

namespace MiniCa.Hsm;

/// <summary>What happened to one key during a copy.</summary>
/// <param name="Label">The logical key.</param>
/// <param name="Outcome">copied, present (already there with the same public key), different (there with another public key), failed.</param>
/// <param name="Detail">A sentence for the operator.</param>
public sealed record KeyCopyResult(string Label, string Outcome, string Detail);

/// <summary>Faults a test injects into a copy (never set in production).</summary>
internal sealed record KeyCopyFaults
{
    /// <summary>Changes a wrapped private key on its way to the target.</summary>
    public Func<byte[], byte[]>? TamperWrappedKey { get; init; }

    /// <summary>Unwraps with a key-encryption key other than the one the source wrapped with.</summary>
    public bool WrongUnwrappingKey { get; init; }
}

/// <summary>
/// Copies private keys from one member to another without their plaintext ever leaving a module: the target
/// makes a transport RSA key pair; the source's security officer makes a trusted AES-256 key-encryption key (KEK),
/// which the source wraps with the transport public key (CKM_RSA_PKCS_OAEP) and the target unwraps with the
/// transport private key; the source wraps each private key with the KEK (CKM_AES_KEY_WRAP_PAD, RFC 5649) and the
/// target unwraps it as a sensitive, non-extractable signing key. Each copy is proven by a signature made in the
/// target and verified with the known public key; a copy that fails any step is destroyed, never left half made.
/// The transport pair and the target's KEK are session objects (gone when the session closes); the source's KEK
/// is destroyed at the end.
/// </summary>
public static class KeyReplicator
{
    private const int TransportBits = 3072;

    /// <summary>Copies <paramref name="labels"/> from <paramref name="source"/> to <paramref name="target"/>.</summary>
    /// <param name="source">A member holding the keys, created copyable (extractable, wrap-with-trusted).</param>
    /// <param name="target">The member to bring up to date.</param>
    /// <param name="labels">Logical keys to copy.</param>
    /// <param name="referenceKey">The SubjectPublicKeyInfo DER each key must have (null: the source's own).</param>
    /// <exception cref="CaException">The source has no SO PIN source, or a step every key needs failed.</exception>
    public static IReadOnlyList<KeyCopyResult> Copy(HsmMember source, HsmMember target, IReadOnlyList<string> labels, Func<string, byte[]?> referenceKey) =>
        Copy(source, target, labels, referenceKey, faults: null);

    internal static IReadOnlyList<KeyCopyResult> Copy(HsmMember source, HsmMember target, IReadOnlyList<string> labels, Func<string, byte[]?> referenceKey, KeyCopyFaults? faults)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(referenceKey);
        var results = new List<KeyCopyResult>();
        var sourceKeys = new Pkcs11KeyStore(source);
        var targetKeys = new Pkcs11KeyStore(target);
        var pending = new List<(string Label, byte[] Spki)>();
        foreach (var label in labels)
        {
            var spki = referenceKey(label) ?? sourceKeys.GetSigner(label).PublicKeyInfo.GetDerEncoded();
            if (targetKeys.KeyExists(label))
            {
                var present = targetKeys.GetSigner(label).PublicKeyInfo.GetDerEncoded();
                results.Add(present.AsSpan().SequenceEqual(spki)
                    ? new KeyCopyResult(label, "present", $"'{label}' is already on '{target.Name}' with the same public key.")
                    : new KeyCopyResult(label, "different", $"'{label}' on '{target.Name}' has another public key; destroy it there (a quorum operation) before copying."));
                continue;
            }

            pending.Add((label, spki));
        }

        if (pending.Count == 0)
        {
            return results;
        }

        if (string.IsNullOrWhiteSpace(source.Settings.SoPinSource))
        {
            throw new CaException(
                CaErrorKind.Configuration,
                $"HSM member '{source.Name}' has no SoPinSource: copying keys out needs its security officer to create a trusted wrapping key.");
        }

        var soPin = PinSource.Resolve(source.Settings.SoPinSource, source.Settings.BaseDirectory);
        var f = Pkcs11Modules.Factories;
        var kekLabel = "minica-kek-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var targetSession = target.OpenReadWriteSession("make a transport key");
        ISession? sourceSession = null;
        var kekCreated = false;
        try
        {
            var (transportPrivate, transportAttributes) = target.WithObjectStore(() =>
            {
                var pair = GenerateTransportPair(targetSession);
                return (pair.Private, targetSession.GetAttributeValue(pair.Public, [CKA.CKA_MODULUS, CKA.CKA_PUBLIC_EXPONENT]));
            });

            // The KEK: trusted (only the SO can say so), extractable so it can travel wrapped, wrap-only.
            source.ExecuteAsSecurityOfficer(soPin, "create the trusted key-encryption key", so =>
            {
                using var generate = f.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
                return so.GenerateKey(generate, KeyTemplates.TrustedKek(kekLabel));
            });
            kekCreated = true;

            sourceSession = source.OpenReadWriteSession("wrap keys for copying");
            using var oaep = Oaep();
            var (kek, wrappedKek) = source.WithObjectStore(() =>
            {
                var sourceKek = Single(source.Find(sourceSession, CKO.CKO_SECRET_KEY, kekLabel), source, kekLabel);
                var transportInSource = sourceSession.CreateObject([
                    f.ObjectAttributeFactory.Create(CKA.CKA_CLASS, CKO.CKO_PUBLIC_KEY),
                    f.ObjectAttributeFactory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_RSA),
                    f.ObjectAttributeFactory.Create(CKA.CKA_TOKEN, false),
                    f.ObjectAttributeFactory.Create(CKA.CKA_WRAP, true),
                    f.ObjectAttributeFactory.Create(CKA.CKA_ENCRYPT, false),
                    f.ObjectAttributeFactory.Create(CKA.CKA_VERIFY, false),
                    f.ObjectAttributeFactory.Create(CKA.CKA_MODULUS, transportAttributes[0].GetValueAsByteArray()),
                    f.ObjectAttributeFactory.Create(CKA.CKA_PUBLIC_EXPONENT, transportAttributes[1].GetValueAsByteArray()),
                ]);
                return (sourceKek, sourceSession.WrapKey(oaep, transportInSource, sourceKek));
            });
            var targetKek = target.WithObjectStore(() => faults?.WrongUnwrappingKey == true
                ? GenerateUnrelatedKek(targetSession)
                : targetSession.UnwrapKey(oaep, transportPrivate, wrappedKek, KeyTemplates.UnwrappedKek()));

            using var keyWrap = f.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP_PAD);
            foreach (var (label, spki) in pending)
            {
                results.Add(CopyOne(source, target, sourceSession, targetSession, kek, targetKek, keyWrap, label, spki, faults));
            }
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Map(ex, target.Name, target.TokenLabel, "prepare the key copy from '" + source.Name + "'");
        }
        finally
        {
            CloseQuietly(targetSession);
            if (kekCreated)
            {
                DestroyKek(source, sourceSession, kekLabel, soPin);
            }

            if (sourceSession is not null)
            {
                CloseQuietly(sourceSession);
            }

            target.ForgetHandles();
        }

        return results;
    }

    private static KeyCopyResult CopyOne(
        HsmMember source, HsmMember target, ISession sourceSession, ISession targetSession, IObjectHandle kek, IObjectHandle targetKek,
        IMechanism keyWrap, string label, byte[] spki, KeyCopyFaults? faults)
    {
        var f = Pkcs11Modules.Factories.ObjectAttributeFactory;
        byte[] wrapped;
        List<IObjectAttribute> publicTemplate;
        CKK keyType;
        byte[] id;
        try
        {
            (wrapped, publicTemplate, keyType, id) = source.WithObjectStore(() =>
            {
                var privateKey = Single(source.Find(sourceSession, CKO.CKO_PRIVATE_KEY, label), source, label);
                var publicKey = Single(source.Find(sourceSession, CKO.CKO_PUBLIC_KEY, label), source, label);
                var common = sourceSession.GetAttributeValue(publicKey, [CKA.CKA_KEY_TYPE, CKA.CKA_ID]);
                var type = (CKK)common[0].GetValueAsUlong();
                var keyId = common[1].GetValueAsByteArray();
                var template = KeyTemplates.PublicKey(label, keyId, type);
                var material = type == CKK.CKK_EC
                    ? sourceSession.GetAttributeValue(publicKey, [CKA.CKA_EC_PARAMS, CKA.CKA_EC_POINT])
                    : sourceSession.GetAttributeValue(publicKey, [CKA.CKA_MODULUS, CKA.CKA_PUBLIC_EXPONENT]);
                template.Add(f.Create(material[0].Type, material[0].GetValueAsByteArray()));
                template.Add(f.Create(material[1].Type, material[1].GetValueAsByteArray()));
                return (sourceSession.WrapKey(keyWrap, kek, privateKey), template, type, keyId);
            });
            if (faults?.TamperWrappedKey is { } tamper)
            {
                wrapped = tamper(wrapped);
            }
        }
        catch (Pkcs11Exception ex) when (ex.RV is CKR.CKR_KEY_UNEXTRACTABLE or CKR.CKR_KEY_NOT_WRAPPABLE)
        {
            return new KeyCopyResult(label, "failed", $"'{label}' on '{source.Name}' cannot be wrapped ({ex.RV}): it was not created copyable (Hsm:CopyableKeys at the key ceremony).");
        }
        catch (Pkcs11Exception ex)
        {
            return new KeyCopyResult(label, "failed", $"'{label}' could not be wrapped on '{source.Name}' ({ex.RV}).");
        }

        IObjectHandle? copiedPrivate = null;
        IObjectHandle? copiedPublic = null;
        var step = "unwrap";
        try
        {
            copiedPrivate = target.WithObjectStore(() => targetSession.UnwrapKey(keyWrap, targetKek, wrapped, KeyTemplates.CopiedPrivateKey(label, id, keyType)));
            step = "create the public half";
            copiedPublic = target.WithObjectStore(() => targetSession.CreateObject(publicTemplate));
            step = "prove";
            target.ForgetHandles();
            Prove(target, label, spki);
            return new KeyCopyResult(label, "copied", $"'{label}' copied from '{source.Name}' to '{target.Name}'; a signature made there verifies under the known public key.");
        }
        catch (Exception ex) when (ex is Pkcs11Exception or CaException or CryptographicException)
        {
            DestroyQuietly(target, targetSession, copiedPublic);
            DestroyQuietly(target, targetSession, copiedPrivate);
            target.ForgetHandles();
            var reason = ex is Pkcs11Exception p11 ? p11.RV.ToString() : ex.Message;
            return new KeyCopyResult(label, "failed", $"'{label}' could not be copied to '{target.Name}' (failed to {step}: {reason}); nothing of it was left there.");
        }
    }

    /// <summary>Signs a random message with the copy and verifies it with the known public key.</summary>
    private static void Prove(HsmMember target, string label, byte[] spki)
    {
        var signer = new Pkcs11KeyStore(target).GetSigner(label);
        if (!signer.PublicKeyInfo.GetDerEncoded().AsSpan().SequenceEqual(spki))
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, $"the copy of '{label}' has another public key");
        }

        var algorithm = SignatureAlgorithms.DefaultFor(signer.Algorithm);
        var message = RandomNumberGenerator.GetBytes(64);
        var signature = signer.Sign(algorithm, message);
        var verifier = SignerUtilities.GetSigner(SignatureAlgorithms.Identifier(algorithm).Algorithm.Id);
        verifier.Init(false, PublicKeyFactory.CreateKey(SubjectPublicKeyInfo.GetInstance(spki)));
        verifier.BlockUpdate(message, 0, message.Length);
        if (!verifier.VerifySignature(signature))
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, $"a signature by the copy of '{label}' does not verify under the known public key");
        }
    }

    private static (IObjectHandle Public, IObjectHandle Private) GenerateTransportPair(ISession session)
    {
        using var mechanism = Pkcs11Modules.Factories.MechanismFactory.Create(CKM.CKM_RSA_PKCS_KEY_PAIR_GEN);
        var (publicTemplate, privateTemplate) = KeyTemplates.TransportPair(TransportBits);
        session.GenerateKeyPair(mechanism, publicTemplate, privateTemplate, out var publicKey, out var privateKey);
        return (publicKey, privateKey);
    }

    private static IObjectHandle GenerateUnrelatedKek(ISession session)
    {
        var f = Pkcs11Modules.Factories;
        using var mechanism = f.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
        var template = KeyTemplates.UnwrappedKek();
        template.Add(f.ObjectAttributeFactory.Create(CKA.CKA_VALUE_LEN, 32UL));
        return session.GenerateKey(mechanism, template);
    }

    /// <summary>RSA-OAEP with SHA-1 and MGF1-SHA-1: the parameters every PKCS#11 module supports for wrapping.</summary>
    private static IMechanism Oaep()
    {
        var f = Pkcs11Modules.Factories;
        var parameters = f.MechanismParamsFactory.CreateCkRsaPkcsOaepParams((ulong)CKM.CKM_SHA_1, (ulong)CKG.CKG_MGF1_SHA1, (ulong)CKZ.CKZ_DATA_SPECIFIED, null);
        return f.MechanismFactory.Create(CKM.CKM_RSA_PKCS_OAEP, parameters);
    }

    private static IObjectHandle Single(List<IObjectHandle> found, HsmMember member, string label) => found.Count == 1
        ? found[0]
        : throw new CaException(CaErrorKind.HsmKeyNotFound, $"HSM member '{member.Name}' has {found.Count} objects labelled '{label}' where one was expected.");

    private static void DestroyKek(HsmMember source, ISession? session, string label, string soPin)
    {
        try
        {
            if (session is not null)
            {
                source.WithObjectStore(() =>
                {
                    foreach (var handle in source.Find(session, CKO.CKO_SECRET_KEY, label))
                    {
                        session.DestroyObject(handle);
                    }

                    return 0;
                });
                return;
            }
        }
        catch (Pkcs11Exception)
        {
            // Fall back to the security officer below.
        }

        source.ExecuteAsSecurityOfficer(soPin, "destroy the key-encryption key", so =>
        {
            foreach (var handle in HsmMember.FindAll(so, CKO.CKO_SECRET_KEY, label))
            {
                so.DestroyObject(handle);
            }

            return 0;
        });
    }

    private static void DestroyQuietly(HsmMember member, ISession session, IObjectHandle? handle)
    {
        if (handle is null)
        {
            return;
        }

        try
        {
            member.WithObjectStore(() =>
            {
                session.DestroyObject(handle);
                return 0;
            });
        }
        catch (Pkcs11Exception)
        {
            // The object was not made or is gone already.
        }
    }

    private static void CloseQuietly(ISession session)
    {
        try
        {
            session.CloseSession();
        }
        catch (Pkcs11Exception)
        {
            // Closing a session of a dead module.
        }
    }
}
