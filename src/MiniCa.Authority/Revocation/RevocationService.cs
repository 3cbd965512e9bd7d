using System.Globalization;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Core.Profiles;
using MiniCa.Core.Revocation;
using MiniCa.Core.Serials;
using MiniCa.Core.Telemetry;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Authority.Revocation;

/// <summary>Revokes certificates (every door: CLI, portal, REST, ACME) and tells the CRL publisher.</summary>
public sealed class RevocationService(
    IRevocationLedger ledger,
    IIssuanceReader reader,
    ProfileCatalog profiles,
    TimeProvider time,
    ILogger<RevocationService> logger)
{
    /// <summary>Raised after a revocation is committed, with the revoked certificate.</summary>
    public event Action<CertificateRecord>? Revoked;

    /// <summary>Revokes the certificate with <paramref name="serial"/> (hex, colons and case ignored).</summary>
    /// <exception cref="CaException">Unknown serial, already revoked, bad reason, hold not allowed, invalidity date in the future.</exception>
    public async Task<CertificateRecord> RevokeAsync(string serial, string reasonName, DateTimeOffset? invalidityDate, string actor, CancellationToken cancellationToken = default) =>
        (await RevokeWithKeyAsync(serial, reasonName, invalidityDate, actor, cancellationToken))[0];

    /// <summary>
    /// Revokes the certificate with <paramref name="serial"/> as <see cref="RevokeAsync"/> does, and returns it first,
    /// then the other certificates of its key that a keyCompromise revocation revoked with it.
    /// </summary>
    /// <exception cref="CaException">As <see cref="RevokeAsync"/>.</exception>
    public async Task<IReadOnlyList<CertificateRecord>> RevokeWithKeyAsync(string serial, string reasonName, DateTimeOffset? invalidityDate, string actor, CancellationToken cancellationToken = default)
    {
        var serialHex = NormaliseSerial(serial);
        var reason = RevocationReasons.Parse(reasonName);
        var certificate = await reader.FindCertificateAsync(serialHex, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"No certificate with serial {serialHex} was issued by this CA.");
        if (reason == RevocationReason.CertificateHold && !profiles.Get(certificate.Profile).AllowCertificateHold)
        {
            throw new CaException(CaErrorKind.PolicyViolation, $"Profile '{certificate.Profile}' does not allow certificateHold (CA/B Forum BR §4.9.13); revoke with another reason.");
        }

        var now = time.GetUtcNow();
        if (invalidityDate > now)
        {
            throw new CaException(CaErrorKind.Malformed, "The invalidity date lies in the future; it says since when the key was no longer trustworthy (RFC 5280 §5.3.2).");
        }

        // BR §6.1.1.3 (4): a key reported compromised is never certified again, and every certificate of it goes.
        var block = reason == RevocationReason.KeyCompromise
            ? new BlockedKey
            {
                PublicKeySha256 = PublicKeyFingerprint.Sha256OfTbs(certificate.TbsDer),
                Reason = RevocationReasons.Name(reason),
                Source = $"certificate:{serialHex}",
                BlockedAt = now,
                BlockedBy = actor,
            }
            : null;
        var revoked = await RecordAsync($"The revocation of certificate {serialHex} by {actor}", () => ledger.RecordRevocationAsync(serialHex, reason, invalidityDate,
            new AuditEntry(actor, "certificate.revoked", $"certificate:{serialHex}",
                $"reason {RevocationReasons.Name(reason)}" + (invalidityDate is { } d ? $", invalid since {d.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}" : string.Empty)),
            block, cancellationToken));
        logger.LogInformation("Certificate {Serial} revoked by {Actor}: {Reason}", serialHex, actor, RevocationReasons.Name(reason));
        if (revoked.Count > 1)
        {
            logger.LogWarning("Key of certificate {Serial} blocked; {Count} other certificate(s) of it revoked: {Serials}",
                serialHex, revoked.Count - 1, string.Join(", ", revoked.Skip(1).Select(c => c.SerialHex)));
        }

        foreach (var certificateRevoked in revoked)
        {
            MiniCaMetrics.Revocations.Add(1, new KeyValuePair<string, object?>("reason", RevocationReasons.Name(reason)));
            Revoked?.Invoke(certificateRevoked);
        }

        return revoked;
    }

    /// <summary>
    /// Blocks a key reported compromised by other means than a revocation here, for instance a private key found
    /// published (BR §4.9.12): no certificate is issued for it again, and every unexpired certificate of it is
    /// revoked for keyCompromise at once.
    /// </summary>
    /// <param name="publicKey">The key.</param>
    /// <param name="actor">Who blocks it.</param>
    /// <param name="note">How it was reported, for the audit log.</param>
    /// <param name="cancellationToken">Cancels the wait for the database.</param>
    public async Task<KeyBlockOutcome> BlockKeyAsync(SubjectPublicKeyInfo publicKey, string actor, string note, CancellationToken cancellationToken = default)
    {
        var keySha256 = PublicKeyFingerprint.Sha256(publicKey);
        var block = new BlockedKey
        {
            PublicKeySha256 = keySha256,
            Reason = RevocationReasons.Name(RevocationReason.KeyCompromise),
            Source = "report",
            BlockedAt = time.GetUtcNow(),
            BlockedBy = actor,
        };
        var outcome = await RecordAsync($"The block of key {keySha256} by {actor}", () => ledger.BlockKeyAsync(block, new AuditEntry(actor, "key.blocked", $"key:{keySha256}", note), cancellationToken));
        logger.LogWarning("Key {Key} blocked by {Actor}; {Count} certificate(s) of it revoked", keySha256, actor, outcome.Revoked.Count);
        foreach (var certificate in outcome.Revoked)
        {
            MiniCaMetrics.Revocations.Add(1, new KeyValuePair<string, object?>("reason", block.Reason));
            Revoked?.Invoke(certificate);
        }

        return outcome;
    }

    /// <summary>
    /// Lifts the block of a key blocked by mistake: requests for it are accepted again. The certificates revoked
    /// with it stay revoked: a revocation is not undone.
    /// </summary>
    /// <param name="keySha256">SHA-256 of the key's SubjectPublicKeyInfo, in hex (colons allowed).</param>
    /// <param name="actor">Who lifts it.</param>
    /// <param name="note">Why, for the audit log.</param>
    /// <param name="cancellationToken">Cancels the wait for the database.</param>
    /// <returns>The block lifted.</returns>
    /// <exception cref="CaException">Not a SHA-256 in hex (Malformed), or the key is not blocked (NotFound).</exception>
    public async Task<BlockedKey> UnblockKeyAsync(string keySha256, string actor, string note, CancellationToken cancellationToken = default)
    {
        var fingerprint = keySha256.Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        if (fingerprint.Length != 64 || !fingerprint.All(char.IsAsciiHexDigit))
        {
            throw new CaException(CaErrorKind.Malformed, $"'{keySha256}' is not a SHA-256 fingerprint (64 hex digits, as 'minica blocked-keys list' shows).");
        }

        var lifted = await RecordAsync($"The lifting of the block of key {fingerprint} by {actor}", () => ledger.UnblockKeyAsync(fingerprint, new AuditEntry(actor, "key.unblocked", $"key:{fingerprint}", note), cancellationToken))
            ?? throw new CaException(CaErrorKind.NotFound, $"Key {fingerprint} is not blocked.");
        logger.LogWarning("Block of key {Key} lifted by {Actor}: {Note}", fingerprint, actor, note);
        return lifted;
    }

    /// <summary>Runs a write of the ledger; one the database could not record is logged with its reason, then thrown.</summary>
    private async Task<T> RecordAsync<T>(string what, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.StorageFailed)
        {
            logger.LogError("{What} was not recorded: {Reason}", what, ex.Message);
            throw;
        }
    }

    /// <summary>Serials as stored: lowercase hex, no separators, no leading zeros.</summary>
    public static string NormaliseSerial(string serial) =>
        SerialText.Normalize(serial) ?? throw new CaException(CaErrorKind.Malformed, $"'{serial}' is not a serial number in hex (at most 20 octets).");
}
