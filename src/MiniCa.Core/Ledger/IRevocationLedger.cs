using MiniCa.Core.Revocation;

namespace MiniCa.Core.Ledger;

/// <summary>A published CRL.</summary>
/// <param name="Authority">The authority that signed it.</param>
/// <param name="Number">Its cRLNumber.</param>
/// <param name="ThisUpdate">thisUpdate.</param>
/// <param name="NextUpdate">nextUpdate.</param>
/// <param name="Entries">How many certificates it lists.</param>
/// <param name="Der">The DER CertificateList.</param>
public sealed record CrlRecord(string Authority, long Number, DateTimeOffset ThisUpdate, DateTimeOffset NextUpdate, int Entries, byte[] Der);

/// <summary>Revocations and CRL state.</summary>
public interface IRevocationLedger
{
    /// <summary>
    /// Revokes a certificate by serial, with its audit event in the same transaction. With <paramref name="block"/>
    /// (a revocation for keyCompromise) the same transaction blocks the key and revokes every other unexpired
    /// certificate of it, each with its audit event (BR §4.9.1.1, §6.1.1.3 (4)).
    /// </summary>
    /// <returns>The certificate revoked by serial, then the others of its key.</returns>
    /// <exception cref="Errors.CaException">Unknown serial (NotFound) or already revoked (AlreadyExists).</exception>
    Task<IReadOnlyList<CertificateRecord>> RecordRevocationAsync(string serialHex, RevocationReason reason, DateTimeOffset? invalidityDate, AuditEntry audit, BlockedKey? block = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Blocks a key reported compromised without a revocation of this CA's (BR §4.9.12), with its audit event, and
    /// revokes every unexpired certificate of it for keyCompromise in the same transaction. A key blocked already
    /// keeps its first block.
    /// </summary>
    Task<KeyBlockOutcome> BlockKeyAsync(BlockedKey block, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lifts the block of a key (one made by mistake), with its audit event; the certificates revoked with it stay
    /// revoked.
    /// </summary>
    /// <returns>The block lifted, or <see langword="null"/> when the key was not blocked.</returns>
    Task<BlockedKey?> UnblockKeyAsync(string publicKeySha256, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the key fingerprint of certificates recorded before it was kept, in batches, and returns how many it
    /// filled. A keyCompromise revocation finishes this first, so that it finds every certificate of the key.
    /// </summary>
    Task<int> FillKeyFingerprintsAsync(CancellationToken cancellationToken = default);

    /// <summary>The revoked certificates of <paramref name="issuerName"/>, read as a stream (in no particular order).</summary>
    /// <param name="issuerName">The issuing authority.</param>
    /// <param name="since">
    /// Only entries that changed at or after this time (for delta CRLs): revoked then, or their reason raised to
    /// keyCompromise then; <see langword="null"/> for all.
    /// </param>
    IEnumerable<RevokedEntry> ReadRevoked(string issuerName, DateTimeOffset? since = null);

    /// <summary>
    /// Serials whose revocation changed at or after <paramref name="since"/> (by any node): revoked, or their reason
    /// raised; with when.
    /// </summary>
    Task<IReadOnlyList<(string SerialHex, DateTimeOffset ChangedAt)>> RevokedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Reserves the next cRLNumber of <paramref name="authority"/> (persisted before it is used; only grows).</summary>
    Task<long> ReserveCrlNumberAsync(string authority, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a CRL as the latest of <see cref="CrlRecord.Authority"/> (an authority's name, or <c>name-delta</c> for
    /// its delta CRLs), unless one with a higher number is already stored.
    /// </summary>
    Task RecordCrlAsync(CrlRecord crl, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>The latest CRL of <paramref name="authority"/>.</summary>
    Task<CrlRecord?> FindCrlAsync(string authority, CancellationToken cancellationToken = default);

    /// <summary>
    /// The latest CRL of <paramref name="authority"/> without its bytes (<see cref="CrlRecord.Der"/> is empty): what
    /// schedulers need, without reading a CRL that can be tens of megabytes.
    /// </summary>
    Task<CrlRecord?> FindCrlSummaryAsync(string authority, CancellationToken cancellationToken = default);
}

/// <summary>What blocking a key did.</summary>
/// <param name="Block">The key's block: the new one, or the earlier one when it was blocked already.</param>
/// <param name="Added">Whether this call blocked it.</param>
/// <param name="Revoked">The certificates of the key revoked by this call.</param>
public sealed record KeyBlockOutcome(BlockedKey Block, bool Added, IReadOnlyList<CertificateRecord> Revoked);
