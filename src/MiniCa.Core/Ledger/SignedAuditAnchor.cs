using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Ledger;

/// <summary>
/// An audit chain anchor signed with the CA's audit key in the HSM and stored in the audit log itself, as an event of
/// action <see cref="Action"/> whose details are <see cref="ToString"/>. Whoever can write to the database but cannot
/// sign with the HSM (a database administrator, a restored copy) cannot change the log up to a signed anchor without
/// its signature failing or the chain no longer matching it; each later anchor covers the events that hold the
/// earlier ones. What it cannot show: events removed from the end of the log after the newest signed anchor, together
/// with that anchor's own event.
/// </summary>
/// <param name="Anchor">The chain's value after an event.</param>
/// <param name="SignedAt">When it was signed (microseconds kept).</param>
/// <param name="KeyName">The HSM key's logical name.</param>
/// <param name="KeySha256">The SHA-256 of the key's SubjectPublicKeyInfo, lowercase hex.</param>
/// <param name="Algorithm">The signature algorithm.</param>
/// <param name="Signature">The signature, in its X.509 encoding, over <see cref="SignedBytes"/>.</param>
public sealed record SignedAuditAnchor(AuditAnchor Anchor, DateTimeOffset SignedAt, string KeyName, string KeySha256, SignatureAlgorithm Algorithm, byte[] Signature)
{
    /// <summary>The audit action of the events that hold signed anchors.</summary>
    public const string Action = "audit.anchor.signed";

    /// <summary>The actor of those events.</summary>
    public const string Actor = "minica";

    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
    private static readonly byte[] Domain = "MiniCa audit anchor v1"u8.ToArray();

    /// <summary>
    /// What is signed (version 1): the ASCII text <c>MiniCa audit anchor v1</c>, the anchor's event id as a big-endian
    /// int64, the chain's 32-byte value there, and the signing time as a big-endian int64 of microseconds since
    /// 1970-01-01 UTC.
    /// </summary>
    public static byte[] SignedBytes(AuditAnchor anchor, DateTimeOffset signedAt)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        var bytes = new byte[Domain.Length + 8 + 32 + 8];
        Domain.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(Domain.Length), anchor.EventId);
        Convert.FromHexString(anchor.Hash).CopyTo(bytes, Domain.Length + 8);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(Domain.Length + 40), Microseconds(signedAt));
        return bytes;
    }

    /// <summary>Signs <paramref name="anchor"/> with <paramref name="signer"/> (in the HSM) at <paramref name="now"/>.</summary>
    public static SignedAuditAnchor Sign(AuditAnchor anchor, IKeySigner signer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(signer);
        // Microseconds, as written and read back.
        var at = DateTimeOffset.UnixEpoch.AddTicks(Microseconds(now) * TimeSpan.TicksPerMicrosecond);
        var algorithm = SignatureAlgorithms.DefaultFor(signer.Algorithm);
        var signature = signer.Sign(algorithm, SignedBytes(anchor, at));
        return new SignedAuditAnchor(anchor, at, signer.KeyName, Keys.PublicKeyFingerprint.Sha256(signer.PublicKeyInfo), algorithm, signature);
    }

    /// <summary>
    /// The event's details: <c>anchor=ID:HASH signed-at=TIME key=NAME key-sha256=HEX algorithm=NAME signature=BASE64</c>.
    /// </summary>
    public override string ToString() =>
        $"anchor={Anchor} signed-at={SignedAt.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture)} key={KeyName} key-sha256={KeySha256} algorithm={Algorithm} signature={Convert.ToBase64String(Signature)}";

    /// <summary>Reads an event's details written by <see cref="ToString"/>; <see langword="null"/> with <paramref name="problem"/> when they are not that.</summary>
    public static SignedAuditAnchor? Parse(string? details, out string? problem)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in (details ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problem = $"'{Shorten(part)}' is not a NAME=VALUE field";
                return null;
            }

            if (!fields.TryAdd(part[..equals], part[(equals + 1)..]))
            {
                problem = $"the field {Shorten(part[..equals])} is there twice";
                return null;
            }
        }

        string? Field(string name) => fields.TryGetValue(name, out var value) ? value : null;
        var anchor = AuditAnchor.Parse(Field("anchor"));
        var signedAt = DateTimeOffset.TryParseExact(Field("signed-at"), Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : (DateTimeOffset?)null;
        var keyName = Field("key");
        var keySha256 = Field("key-sha256");
        var algorithm = Enum.TryParse<SignatureAlgorithm>(Field("algorithm"), ignoreCase: false, out var a) && Enum.IsDefined(a) && !int.TryParse(Field("algorithm"), out _) ? a : (SignatureAlgorithm?)null;
        byte[]? signature = null;
        if (Field("signature") is { } base64)
        {
            var buffer = new byte[base64.Length];
            signature = Convert.TryFromBase64String(base64, buffer, out var written) && written > 0 ? buffer[..written] : null;
        }

        problem = anchor is null ? "no anchor=ID:HASH"
            : signedAt is null ? "no signed-at=yyyy-MM-ddTHH:mm:ss.ffffffZ"
            : string.IsNullOrEmpty(keyName) ? "no key=NAME"
            : keySha256 is not { Length: 64 } || keySha256.Any(c => !char.IsAsciiHexDigitLower(c)) ? "no key-sha256= of 64 lowercase hex digits"
            : algorithm is null ? "no algorithm= of a known signature algorithm"
            : signature is null ? "no signature=BASE64"
            : fields.Count != 6 ? $"fields other than anchor, signed-at, key, key-sha256, algorithm and signature: {string.Join(", ", fields.Keys.Except(["anchor", "signed-at", "key", "key-sha256", "algorithm", "signature"]))}"
            : null;
        return problem is null ? new SignedAuditAnchor(anchor!, signedAt!.Value, keyName!, keySha256!, algorithm!.Value, signature!) : null;
    }

    private static long Microseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}

/// <summary>
/// Checks signed anchors against one public key (the HSM's audit key), imported once into the platform's crypto
/// (OpenSSL): a log of years holds thousands of signed anchors. Not thread-safe.
/// </summary>
public sealed class AuditAnchorVerifier : IDisposable
{
    private readonly AsymmetricAlgorithm _key;

    /// <summary>Imports <paramref name="publicKey"/>.</summary>
    /// <exception cref="Errors.CaException">It is not an EC or RSA public key (<see cref="Errors.CaErrorKind.Malformed"/>).</exception>
    public AuditAnchorVerifier(SubjectPublicKeyInfo publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        KeySha256 = Keys.PublicKeyFingerprint.Sha256(publicKey);
        try
        {
            _key = PlatformSignatures.CreateKey(publicKey);
        }
        catch (CryptographicException e)
        {
            throw new Errors.CaException(Errors.CaErrorKind.Malformed, $"The audit key (SHA-256 {KeySha256}) is not an EC or RSA public key this platform reads: {e.Message}");
        }
    }

    /// <summary>The SHA-256 of the key's SubjectPublicKeyInfo, lowercase hex.</summary>
    public string KeySha256 { get; }

    /// <summary>Whether <paramref name="anchor"/> names this key and its signature verifies under it.</summary>
    public bool Verifies(SignedAuditAnchor anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        if (anchor.KeySha256 != KeySha256 || SignatureAlgorithms.IsEcdsa(anchor.Algorithm) != (_key is ECDsa))
        {
            return false;
        }

        try
        {
            return PlatformSignatures.Verify(_key, anchor.Algorithm, SignedAuditAnchor.SignedBytes(anchor.Anchor, anchor.SignedAt), anchor.Signature);
        }
        catch (CryptographicException)
        {
            // A signature that is not even well-formed does not verify.
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
