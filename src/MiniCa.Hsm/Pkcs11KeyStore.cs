using System.Collections.Concurrent;
using System.Security.Cryptography;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Math;

namespace MiniCa.Hsm;

/// <summary>
/// CA keys on a PKCS#11 token, addressed by logical name (the object's CKA_LABEL) or by an RFC 7512
/// <c>pkcs11:</c> URI. Keys are generated inside the token and can only sign.
/// </summary>
public sealed class Pkcs11KeyStore : IKeyManager
{
    private readonly HsmMember _member;
    private readonly bool _copyable;
    private readonly ConcurrentDictionary<string, Pkcs11Signer> _signers = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates a key store over <paramref name="member"/>. With <paramref name="copyable"/>, generated keys can be
    /// wrapped out, but only under a key the security officer marked trusted (for copying to cluster members).
    /// </summary>
    public Pkcs11KeyStore(HsmMember member, bool copyable = false)
    {
        ArgumentNullException.ThrowIfNull(member);
        _member = member;
        _copyable = copyable;
    }

    /// <summary>The member this store reads.</summary>
    public HsmMember Member => _member;

    /// <inheritdoc />
    public IKeySigner GenerateKey(string keyName, KeyAlgorithm algorithm, byte[]? keyId = null)
    {
        ValidateName(keyName);
        ArgumentNullException.ThrowIfNull(algorithm);
        if (KeyExists(keyName))
        {
            throw new CaException(
                CaErrorKind.AlreadyExists,
                $"A key named '{keyName}' already exists on token '{_member.TokenLabel}'; keys are never overwritten.");
        }

        var id = keyId is { Length: > 0 } ? keyId : RandomNumberGenerator.GetBytes(16);
        _member.ExecuteReadWrite($"generate the {algorithm} key '{keyName}'", session =>
        {
            var (mechanismType, publicTemplate, privateTemplate) = KeyTemplates.For(keyName, id, algorithm, _copyable);
            using var mechanism = Pkcs11Modules.Factories.MechanismFactory.Create(mechanismType);
            return _member.WithObjectStore(() =>
            {
                session.GenerateKeyPair(mechanism, publicTemplate, privateTemplate, out _, out _);
                return 0;
            });
        });

        if (!KeepsNewKey(keyName, id))
        {
            throw new CaException(
                CaErrorKind.AlreadyExists,
                $"Another process generated a key named '{keyName}' on token '{_member.TokenLabel}' at the same moment; the key generated here was destroyed at once (keys are never overwritten).");
        }

        // Another process's key of this name, generated just after the look-up above, is destroyed by its maker
        // within a second or so (it finds this one): GetSigner waits for that.
        return GetSigner(keyName);
    }

    /// <summary>
    /// After the generation of the key <paramref name="keyName"/> of CKA_ID <paramref name="id"/>: whether it is the
    /// only key of its name, the others' makers having destroyed theirs. The look-up before a generation cannot see a
    /// key another process generates at the same moment, and PKCS#11 labels are not unique, so two keys of one name
    /// can be made. Then the maker of the key with the greater CKA_ID destroys its own at once; the maker of the
    /// smallest waits a second for that and destroys its own if another stays (its maker found it alone and kept it).
    /// So at most one key of a name is left, and of two made at the same moment one is kept. Keys given the same
    /// CKA_ID by their callers cannot be told apart this way.
    /// </summary>
    private bool KeepsNewKey(string keyName, byte[] id)
    {
        var until = DateTime.UtcNow.AddSeconds(1);
        while (true)
        {
            var others = _member.Execute($"look up key '{keyName}'", session => _member.Find(session, CKO.CKO_PRIVATE_KEY, keyName)
                .Select(handle => IdOf(session, handle))
                .Where(other => !other.AsSpan().SequenceEqual(id))
                .ToList());
            if (others.Count == 0)
            {
                return true;
            }

            if (others.Any(other => other.AsSpan().SequenceCompareTo(id) < 0) || DateTime.UtcNow >= until)
            {
                Destroy(keyName, id, $"destroy the key '{keyName}' just generated");
                return false;
            }

            Thread.Sleep(20);
        }
    }

    /// <inheritdoc />
    public IKeySigner GetSigner(string keyNameOrUri)
    {
        var label = ResolveLabel(keyNameOrUri);
        // Two keys of one name, for a moment: two processes generated it at once and one of them is destroying its
        // own (GenerateKey), within a second or so. Looked up again until then, for 3 s at most, outside the token's
        // turn, which the destruction needs.
        for (var until = DateTime.UtcNow.AddSeconds(3); ; Thread.Sleep(20))
        {
            try
            {
                return _signers.GetOrAdd(label, CreateSigner);
            }
            catch (CaException e) when (e.Kind == CaErrorKind.HsmKeyNotFound && DateTime.UtcNow < until && IsAmbiguous(label))
            {
            }
        }
    }

    /// <summary>Whether more than one private or public key object is labelled <paramref name="label"/>.</summary>
    private bool IsAmbiguous(string label) => _member.Execute($"look up key '{label}'", session =>
        _member.Find(session, CKO.CKO_PRIVATE_KEY, label).Count > 1 || _member.Find(session, CKO.CKO_PUBLIC_KEY, label).Count > 1);

    /// <inheritdoc />
    public bool KeyExists(string keyName)
    {
        ValidateName(keyName);
        return _member.Execute($"look up key '{keyName}'", s => _member.Find(s, CKO.CKO_PRIVATE_KEY, keyName).Count > 0);
    }

    /// <summary>
    /// Destroys both halves of the key <paramref name="keyName"/> on this token (a quorum operation: callers make
    /// sure another member still holds it). Returns how many objects were destroyed.
    /// </summary>
    public int DestroyKey(string keyName)
    {
        ValidateName(keyName);
        var destroyed = Destroy(keyName, null, $"destroy key '{keyName}'");
        _signers.TryRemove(keyName, out _);
        return destroyed;
    }

    /// <summary>Destroys both halves of the key <paramref name="keyName"/>, only those of CKA_ID <paramref name="id"/> when it is given.</summary>
    private int Destroy(string keyName, byte[]? id, string action)
    {
        var destroyed = _member.ExecuteReadWrite(action, session => _member.WithObjectStore(() =>
        {
            var count = 0;
            foreach (var objectClass in new[] { CKO.CKO_PRIVATE_KEY, CKO.CKO_PUBLIC_KEY })
            {
                foreach (var handle in _member.Find(session, objectClass, keyName).Where(h => id is null || IdOf(session, h).AsSpan().SequenceEqual(id)))
                {
                    session.DestroyObject(handle);
                    count++;
                }
            }

            return count;
        }));
        _member.ForgetHandles();
        return destroyed;
    }

    /// <summary>The CKA_ID of the object <paramref name="handle"/> (empty when it has none).</summary>
    private static byte[] IdOf(ISession session, IObjectHandle handle) => session.GetAttributeValue(handle, [CKA.CKA_ID])[0].GetValueAsByteArray() ?? [];

    /// <summary>
    /// The logical key name <paramref name="keyNameOrUri"/> refers to: the object label of an RFC 7512 URI that names
    /// one (cluster members are different tokens, so the label is what they share), otherwise the text as it is.
    /// </summary>
    public static string LogicalName(string keyNameOrUri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyNameOrUri);
        if (!keyNameOrUri.StartsWith("pkcs11:", StringComparison.OrdinalIgnoreCase))
        {
            return keyNameOrUri;
        }

        try
        {
            return new Pkcs11Uri(keyNameOrUri).Object is { Length: > 0 } label ? label : keyNameOrUri;
        }
        catch (Pkcs11UriException)
        {
            // Left for GetSigner to refuse with a precise message.
            return keyNameOrUri;
        }
    }

    /// <summary>The RFC 7512 URI of the private key <paramref name="label"/> with id <paramref name="id"/> on this token.</summary>
    public string BuildUri(string label, byte[]? id)
    {
        var builder = new Pkcs11UriBuilder
        {
            Token = _member.TokenLabel,
            Serial = _member.TokenSerial,
            Object = label,
            Type = CKO.CKO_PRIVATE_KEY,
        };
        if (id is { Length: > 0 })
        {
            builder.Id = id;
        }

        return builder.ToString();
    }

    /// <summary>Every private key on the token with its security attributes, as read back from the token.</summary>
    public IReadOnlyList<HsmKeyInfo> ListKeys()
    {
        return _member.Execute("list keys", session => _member.WithObjectStore(() =>
        {
            var result = new List<HsmKeyInfo>();
            foreach (var handle in _member.Find(session, CKO.CKO_PRIVATE_KEY, label: null))
            {
                result.Add(ReadKeyInfo(session, handle));
            }

            return result.OrderBy(k => k.Label, StringComparer.Ordinal).ToList();
        }));
    }

    private HsmKeyInfo ReadKeyInfo(ISession session, IObjectHandle handle)
    {
        var attributes = session.GetAttributeValue(handle, [
            CKA.CKA_LABEL, CKA.CKA_ID, CKA.CKA_KEY_TYPE, CKA.CKA_SENSITIVE, CKA.CKA_ALWAYS_SENSITIVE, CKA.CKA_EXTRACTABLE,
            CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_SIGN, CKA.CKA_DECRYPT, CKA.CKA_UNWRAP, CKA.CKA_DERIVE, CKA.CKA_SIGN_RECOVER,
            CKA.CKA_MODIFIABLE, CKA.CKA_LOCAL, CKA.CKA_PRIVATE, CKA.CKA_TOKEN, CKA.CKA_VALUE, CKA.CKA_WRAP_WITH_TRUSTED,
        ]);
        bool Flag(int i) => !attributes[i].CannotBeRead && attributes[i].GetValueAsBool();
        var label = attributes[0].GetValueAsString() ?? string.Empty;
        var id = attributes[1].CannotBeRead ? [] : attributes[1].GetValueAsByteArray() ?? [];
        return new HsmKeyInfo
        {
            Label = label,
            Id = Convert.ToHexStringLower(id),
            KeyType = ((CKK)attributes[2].GetValueAsUlong()) switch
            {
                CKK.CKK_EC => "EC",
                CKK.CKK_RSA => "RSA",
                var other => other.ToString(),
            },
            Sensitive = Flag(3),
            AlwaysSensitive = Flag(4),
            Extractable = Flag(5),
            NeverExtractable = Flag(6),
            Sign = Flag(7),
            Decrypt = Flag(8),
            Unwrap = Flag(9),
            Derive = Flag(10),
            SignRecover = Flag(11),
            Modifiable = Flag(12),
            Local = Flag(13),
            Private = Flag(14),
            Token = Flag(15),
            // The secret value must be unreadable; reading it is only attempted to prove that.
            ValueReadable = !attributes[16].CannotBeRead,
            WrapWithTrusted = Flag(17),
            Uri = BuildUri(label, id),
        };
    }

    private string ResolveLabel(string keyNameOrUri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyNameOrUri);
        if (!keyNameOrUri.StartsWith("pkcs11:", StringComparison.OrdinalIgnoreCase))
        {
            ValidateName(keyNameOrUri);
            return keyNameOrUri;
        }

        Pkcs11Uri uri;
        try
        {
            uri = new Pkcs11Uri(keyNameOrUri);
        }
        catch (Pkcs11UriException ex)
        {
            throw new CaException(CaErrorKind.Malformed, $"'{keyNameOrUri}' is not a valid RFC 7512 PKCS#11 URI: {ex.Message}", ex);
        }

        if ((uri.Token is not null && uri.Token != _member.TokenLabel) || (uri.Serial is not null && uri.Serial != _member.TokenSerial))
        {
            throw new CaException(
                CaErrorKind.HsmKeyNotFound,
                $"Key URI '{keyNameOrUri}' names a token other than '{_member.TokenLabel}' (serial {_member.TokenSerial}).");
        }

        if (uri.Type is not null && uri.Type != CKO.CKO_PRIVATE_KEY)
        {
            throw new CaException(CaErrorKind.Malformed, $"Key URI '{keyNameOrUri}' must name a private key (type=private).");
        }

        if (uri.Object is not null)
        {
            return uri.Object;
        }

        if (uri.Id is null)
        {
            throw new CaException(CaErrorKind.Malformed, $"Key URI '{keyNameOrUri}' names neither an object label nor an id.");
        }

        return _member.Execute("look up a key by id", session => _member.WithObjectStore(() =>
        {
            var factory = Pkcs11Modules.Factories.ObjectAttributeFactory;
            var found = session.FindAllObjects([
                factory.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
                factory.Create(CKA.CKA_ID, uri.Id),
            ]);
            if (found.Count != 1)
            {
                throw new CaException(
                    CaErrorKind.HsmKeyNotFound,
                    $"Key URI '{keyNameOrUri}' matches {found.Count} private keys on token '{_member.TokenLabel}'; it must match one.");
            }

            return session.GetAttributeValue(found[0], [CKA.CKA_LABEL])[0].GetValueAsString() ?? string.Empty;
        }));
    }

    private Pkcs11Signer CreateSigner(string label)
    {
        return _member.Execute($"read the public key of '{label}'", session => _member.WithObjectStore(() =>
        {
            // Both halves must be present: a public key without its private key cannot sign.
            var privateKey = _member.FindObject(session, CKO.CKO_PRIVATE_KEY, label);
            var id = IdOf(session, privateKey);
            var publicKey = _member.FindObject(session, CKO.CKO_PUBLIC_KEY, label);
            var (algorithm, spki) = ReadPublicKey(session, publicKey, label);
            return new Pkcs11Signer(_member, label, BuildUri(label, id), Convert.ToHexStringLower(id), algorithm, spki);
        }));
    }

    private static (KeyAlgorithm Algorithm, SubjectPublicKeyInfo PublicKey) ReadPublicKey(ISession session, IObjectHandle handle, string label)
    {
        var keyType = (CKK)session.GetAttributeValue(handle, [CKA.CKA_KEY_TYPE])[0].GetValueAsUlong();
        if (keyType == CKK.CKK_EC)
        {
            var attributes = session.GetAttributeValue(handle, [CKA.CKA_EC_PARAMS, CKA.CKA_EC_POINT]);
            var curve = (DerObjectIdentifier)Asn1Object.FromByteArray(attributes[0].GetValueAsByteArray());
            var algorithm = KeyAlgorithm.All.FirstOrDefault(a => a.CurveOid == curve.Id)
                ?? throw new CaException(CaErrorKind.HsmOperationFailed, $"Key '{label}' is on curve {curve.Id}, which MiniCa does not use.");
            var point = UnwrapEcPoint(attributes[1].GetValueAsByteArray(), algorithm.Bits);
            var spki = new SubjectPublicKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.IdECPublicKey, curve), point);
            return (algorithm, spki);
        }

        if (keyType == CKK.CKK_RSA)
        {
            var attributes = session.GetAttributeValue(handle, [CKA.CKA_MODULUS, CKA.CKA_PUBLIC_EXPONENT]);
            var modulus = new BigInteger(1, attributes[0].GetValueAsByteArray());
            var exponent = new BigInteger(1, attributes[1].GetValueAsByteArray());
            var algorithm = KeyAlgorithm.All.FirstOrDefault(a => a.Family == KeyFamily.Rsa && a.Bits == modulus.BitLength)
                ?? throw new CaException(CaErrorKind.HsmOperationFailed, $"Key '{label}' is RSA-{modulus.BitLength}, which MiniCa does not use.");
            var spki = new SubjectPublicKeyInfo(
                new AlgorithmIdentifier(PkcsObjectIdentifiers.RsaEncryption, DerNull.Instance),
                new RsaPublicKeyStructure(modulus, exponent));
            return (algorithm, spki);
        }

        throw new CaException(CaErrorKind.HsmOperationFailed, $"Key '{label}' is of type {keyType}, which MiniCa does not use.");
    }

    /// <summary>
    /// CKA_EC_POINT should be a DER OCTET STRING around the point (PKCS#11 v2.40 §2.3.3) but some modules return
    /// the raw point. An uncompressed point is 1 + 2·field-size octets; tell the two forms apart by that length,
    /// not by the first byte (0x04 is both the OCTET STRING tag and the uncompressed-point marker).
    /// </summary>
    internal static byte[] UnwrapEcPoint(byte[] value, int fieldBits)
    {
        var rawLength = 1 + (2 * ((fieldBits + 7) / 8));
        if (value.Length == rawLength && value[0] == 0x04)
        {
            return value;
        }

        var unwrapped = Asn1OctetString.GetInstance(value).GetOctets();
        return unwrapped.Length == rawLength
            ? unwrapped
            : throw new CaException(CaErrorKind.HsmOperationFailed, $"CKA_EC_POINT has {value.Length} bytes, which is no point on a {fieldBits}-bit curve.");
    }

    private static void ValidateName(string keyName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyName);
        if (keyName.Length > 64 || keyName.Any(c => char.IsControl(c)))
        {
            throw new CaException(CaErrorKind.Malformed, $"'{keyName}' is not a key name: use at most 64 printable characters.");
        }
    }
}

/// <summary>A private key on a token and its security attributes, read back from the token.</summary>
public sealed record HsmKeyInfo
{
    /// <summary>CKA_LABEL: the logical key name.</summary>
    public required string Label { get; init; }
    /// <summary>CKA_ID in hex.</summary>
    public required string Id { get; init; }
    /// <summary>EC or RSA.</summary>
    public required string KeyType { get; init; }
    /// <summary>CKA_SENSITIVE: the value never leaves the token in plaintext.</summary>
    public required bool Sensitive { get; init; }
    /// <summary>CKA_ALWAYS_SENSITIVE: sensitive since it was made.</summary>
    public required bool AlwaysSensitive { get; init; }
    /// <summary>CKA_EXTRACTABLE: may be wrapped out of the token.</summary>
    public required bool Extractable { get; init; }
    /// <summary>CKA_NEVER_EXTRACTABLE: never was extractable.</summary>
    public required bool NeverExtractable { get; init; }
    /// <summary>CKA_SIGN.</summary>
    public required bool Sign { get; init; }
    /// <summary>CKA_DECRYPT.</summary>
    public required bool Decrypt { get; init; }
    /// <summary>CKA_UNWRAP.</summary>
    public required bool Unwrap { get; init; }
    /// <summary>CKA_DERIVE.</summary>
    public required bool Derive { get; init; }
    /// <summary>CKA_SIGN_RECOVER.</summary>
    public required bool SignRecover { get; init; }
    /// <summary>CKA_MODIFIABLE.</summary>
    public required bool Modifiable { get; init; }
    /// <summary>CKA_LOCAL: generated inside the token.</summary>
    public required bool Local { get; init; }
    /// <summary>CKA_PRIVATE: needs a login.</summary>
    public required bool Private { get; init; }
    /// <summary>CKA_TOKEN: persistent.</summary>
    public required bool Token { get; init; }
    /// <summary>CKA_WRAP_WITH_TRUSTED: may only be wrapped by a key the security officer marked trusted.</summary>
    public bool WrapWithTrusted { get; init; }
    /// <summary>Whether the token returned CKA_VALUE (it must not).</summary>
    public required bool ValueReadable { get; init; }
    /// <summary>The key's RFC 7512 URI.</summary>
    public required string Uri { get; init; }
}
