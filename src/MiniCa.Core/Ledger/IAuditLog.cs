namespace MiniCa.Core.Ledger;

/// <summary>
/// Writes an audit event that stands alone (a user created, a token revoked). Changes to requests, certificates
/// and CRLs write their events through their own ledgers, in the same transaction as the change.
/// </summary>
public interface IAuditLog
{
    /// <summary>Appends <paramref name="entry"/> to the audit log.</summary>
    Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends <paramref name="entry"/>, the rotation of the audit key of SHA-256 <paramref name="replacedKeySha256"/>,
    /// unless a rotation of that key is recorded already: a key is replaced once.
    /// </summary>
    /// <exception cref="Errors.CaException">That key was replaced already (<see cref="Errors.CaErrorKind.AlreadyExists"/>);
    /// the database failed (<see cref="Errors.CaErrorKind.StorageFailed"/>).</exception>
    Task RecordAuditKeyRotationAsync(AuditEntry entry, string replacedKeySha256, CancellationToken cancellationToken = default);
}
