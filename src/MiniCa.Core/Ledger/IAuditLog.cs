namespace MiniCa.Core.Ledger;

/// <summary>
/// Writes an audit event that stands alone (a user created, a token revoked). Changes to requests, certificates
/// and CRLs write their events through their own ledgers, in the same transaction as the change.
/// </summary>
public interface IAuditLog
{
    /// <summary>Appends <paramref name="entry"/> to the audit log.</summary>
    Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default);
}
