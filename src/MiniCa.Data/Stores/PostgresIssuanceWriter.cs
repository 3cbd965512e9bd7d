using System.Data.Common;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>
/// The issuance hot path on PostgreSQL: its two writes as plain statements for <see cref="PostgresGroupCommit"/>'s
/// batches, where EF Core's change tracking and its separate look-ups took several round trips each. The rows and
/// guards are <see cref="SqliteIssuanceWriter"/>'s, which are the entities' own. Written against ADO.NET's
/// <see cref="DbBatch"/>, so that this assembly needs no Npgsql; the SQL is PostgreSQL's.
/// </summary>
internal static class PostgresIssuanceWriter
{
    /// <summary>
    /// Under the key's lock (as <see cref="MiniCaDbContext.LockKeyAsync"/>), refuses a blocked key, then records a new
    /// request, its names, the certificate about to be signed and the audit event.
    /// </summary>
    public static PostgresGroupCommit.Write<(long RequestId, long CertificateId)> RecordSigning(
        RequestDraft request, CertificateDraft certificate, AuditEntry audit, DateTimeOffset now, CancellationToken cancellationToken) =>
        new SigningWrite(request, certificate, audit, now.ToUniversalTime(), cancellationToken);

    /// <summary>
    /// Stores the signed certificate, marks certificate and request issued, and writes the audit event: one statement,
    /// which changes nothing unless the certificate is being signed and its request approved.
    /// </summary>
    public static PostgresGroupCommit.Write<bool> RecordIssued(long requestId, long certificateId, byte[] certificateDer, AuditEntry audit, DateTimeOffset now, CancellationToken cancellationToken) =>
        new IssuedWrite(requestId, certificateId, certificateDer, audit, now.ToUniversalTime(), cancellationToken);

    private static string Details(AuditEntry audit) => audit.Details.Length <= 8192 ? audit.Details : audit.Details[..8192];

    private sealed class SigningWrite(RequestDraft request, CertificateDraft certificate, AuditEntry audit, DateTimeOffset at, CancellationToken cancellationToken)
        : PostgresGroupCommit.Write<(long RequestId, long CertificateId)>(cancellationToken)
    {
        private readonly long _lockId = MiniCaDbContext.KeyLockId(certificate.PublicKeySha256);
        private bool _waitForLock;
        private bool _locked;
        private BlockedKey? _blocked;
        private (long RequestId, long CertificateId)? _recorded;

        public override void Add(DbBatch batch)
        {
            var names = RequestNameEntity.For(request.Identifiers);
            // In a shared batch the key's lock is only tried: a lock held by another session (a revocation or a block
            // of this key) must not hold up the other writes. The statements after it read the outcome from a
            // transaction-local setting, so that without the lock nothing is inserted, and the write then runs
            // alone, waiting for the lock. Each statement reads a snapshot taken after the lock was taken.
            Statement(batch, _waitForLock
                ? "SELECT set_config('minica.key_locked', 'true', true) FROM (SELECT pg_advisory_xact_lock($1)) AS l"
                : "SELECT set_config('minica.key_locked', pg_try_advisory_xact_lock($1)::text, true)", _lockId);
            Statement(batch, "SELECT \"Source\", \"Reason\", \"BlockedAt\", \"BlockedBy\" FROM \"BlockedKeys\" WHERE \"PublicKeySha256\" = $1", certificate.PublicKeySha256);
            // One statement for the four inserts; it inserts nothing without the key's lock, or when the key is blocked
            // (the look-up above says why).
            Statement(batch,
                "WITH r AS (INSERT INTO \"Requests\" (\"Profile\", \"Requester\", \"Source\", \"Status\", \"CsrDer\", \"Subject\", \"Identifiers\", \"KeyDescription\", \"Problems\", \"RequiredApprovals\", \"CreatedAt\", \"UpdatedAt\") " +
                "SELECT $1, $2, $3, 'Approved', $4::bytea, $5, $6, $7, '', $8, $9, $9 WHERE current_setting('minica.key_locked') = 'true' AND NOT EXISTS (SELECT 1 FROM \"BlockedKeys\" WHERE \"PublicKeySha256\" = $14) RETURNING \"Id\"), " +
                "n AS (INSERT INTO \"RequestNames\" (\"RequestId\", \"Name\", \"ReversedName\") SELECT r.\"Id\", x.name, x.reversed FROM r, unnest($10::text[], $11::text[]) AS x(name, reversed)), " +
                "c AS (INSERT INTO \"Certificates\" (\"SerialHex\", \"IssuerName\", \"Subject\", \"Identifiers\", \"Profile\", \"Status\", \"NotBefore\", \"NotAfter\", \"TbsDer\", \"PublicKeySha256\", \"RequestId\", \"CreatedAt\") " +
                "SELECT $12, $13, $15, $16, $1, 'Signing', $17, $18, $19, $14, r.\"Id\", $9 FROM r RETURNING \"Id\", \"RequestId\"), " +
                "a AS (INSERT INTO \"AuditEvents\" (\"At\", \"Actor\", \"Action\", \"Subject\", \"Details\") SELECT $9, $20, $21, $22, $23 FROM r) " +
                "SELECT \"RequestId\", \"Id\" FROM c",
                request.Profile, request.Requester, request.Source, request.CsrDer,
                request.Subject.Length <= 1024 ? request.Subject : request.Subject[..1024], string.Join('\n', request.Identifiers), request.KeyDescription, request.RequiredApprovals, at,
                names.Select(n => n.Name).ToArray(), names.Select(n => n.ReversedName).ToArray(),
                certificate.SerialHex, certificate.IssuerName, certificate.PublicKeySha256, certificate.Subject, string.Join('\n', certificate.Identifiers),
                certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(), certificate.TbsDer,
                audit.Actor, audit.Action, $"certificate:{certificate.SerialHex}", Details(audit));
        }

        public override void Read(int statement, DbDataReader reader)
        {
            switch (statement)
            {
                case 0:
                    _locked = reader.Read() && reader.GetString(0) == "true";
                    break;
                case 1:
                    _blocked = reader.Read()
                        ? new BlockedKey
                        {
                            PublicKeySha256 = certificate.PublicKeySha256,
                            Source = reader.GetString(0),
                            Reason = reader.GetString(1),
                            BlockedAt = reader.GetFieldValue<DateTimeOffset>(2),
                            BlockedBy = reader.GetString(3),
                        }
                        : null;
                    break;
                case 2:
                    _recorded = reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
                    break;
            }
        }

        public override bool RunAloneAndWait()
        {
            // A blocked key is refused whether or not its lock was free: the block is committed.
            _waitForLock = !_locked && _blocked is null;
            return _waitForLock;
        }

        protected override (long RequestId, long CertificateId) Result() =>
            _blocked is { } key ? throw new CaException(CaErrorKind.PolicyViolation, key.Problem)
            : _recorded ?? throw new CaException(CaErrorKind.StorageFailed, "The issuance database recorded no certificate before signing.");

        public override Exception Refused(DbException exception) =>
            exception.SqlState == "23505" && exception.Message.Contains("IX_Certificates_SerialHex", StringComparison.Ordinal)
                ? new CaException(CaErrorKind.AlreadyExists, "The serial number is already taken.", exception)
                : new CaException(CaErrorKind.StorageFailed, $"The issuance database could not record the certificate before signing ({exception.Message}).", exception);
    }

    private sealed class IssuedWrite(long requestId, long certificateId, byte[] certificateDer, AuditEntry audit, DateTimeOffset at, CancellationToken cancellationToken)
        : PostgresGroupCommit.Write<bool>(cancellationToken)
    {
        private (long Certificates, long Requests) _changed;

        public override void Add(DbBatch batch)
        {
            // The request's row is locked first (FOR UPDATE re-reads it if it changed meanwhile), so the certificate's
            // update and the request's stand or fall together.
            Statement(batch,
                "WITH q AS (SELECT \"Id\" FROM \"Requests\" WHERE \"Id\" = $4 AND \"Status\" = 'Approved' FOR UPDATE), " +
                "c AS (UPDATE \"Certificates\" SET \"Der\" = $1, \"Status\" = 'Issued', \"IssuedAt\" = $2 WHERE \"Id\" = $3 AND \"RequestId\" = $4 AND \"Status\" = 'Signing' AND EXISTS (SELECT 1 FROM q) RETURNING \"Id\"), " +
                "r AS (UPDATE \"Requests\" SET \"Status\" = 'Issued', \"UpdatedAt\" = $2 WHERE \"Id\" IN (SELECT \"Id\" FROM q) AND EXISTS (SELECT 1 FROM c) RETURNING \"Id\"), " +
                "a AS (INSERT INTO \"AuditEvents\" (\"At\", \"Actor\", \"Action\", \"Subject\", \"Details\") SELECT $2, $5, $6, $7, $8 FROM r) " +
                "SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM r)",
                certificateDer, at, certificateId, requestId, audit.Actor, audit.Action, audit.Subject, Details(audit));
        }

        public override void Read(int statement, DbDataReader reader) =>
            _changed = reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);

        protected override bool Result() => _changed == (1, 1)
            ? true
            : throw (_changed.Certificates == 0
                ? new CaException(CaErrorKind.InvalidState, $"Certificate {certificateId} of request {requestId} is not being signed; nothing was recorded.")
                : new CaException(CaErrorKind.StorageFailed, $"Certificate {certificateId} was recorded issued but its request {requestId} was not (it changed meanwhile)."));

        public override Exception Refused(DbException exception) =>
            new CaException(CaErrorKind.StorageFailed, $"The issuance database could not record the issued certificate ({exception.Message}).", exception);
    }
}
