using System.Data.Common;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>
/// The issuance hot path on PostgreSQL: each of its two writes as one batch of plain statements in one implicit
/// transaction (one round trip each), where EF Core's change tracking and its separate look-ups took several.
/// The rows and guards are <see cref="SqliteIssuanceWriter"/>'s, which are the entities' own. Written against
/// ADO.NET's <see cref="DbBatch"/>, so that this assembly needs no Npgsql; the SQL is PostgreSQL's.
/// </summary>
internal static class PostgresIssuanceWriter
{
    /// <summary>
    /// Under the key's lock (as <see cref="MiniCaDbContext.LockKeyAsync"/>), refuses a blocked key, then records a new
    /// request, its names, the certificate about to be signed and the audit event.
    /// </summary>
    public static async Task<(long RequestId, long CertificateId)> RecordSigningAsync(
        DbConnection connection, RequestDraft request, CertificateDraft certificate, AuditEntry audit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var at = now.ToUniversalTime();
        var names = RequestNameEntity.For(request.Identifiers);
        // No explicit transaction: a batch is one implicit transaction (one Sync at its end), committed in the same
        // round trip, and any failing statement rolls back the others.
        await using var batch = connection.CreateBatch();
        Add(batch, "SELECT pg_advisory_xact_lock($1)", MiniCaDbContext.KeyLockId(certificate.PublicKeySha256));
        Add(batch, "SELECT \"Source\", \"Reason\", \"BlockedAt\", \"BlockedBy\" FROM \"BlockedKeys\" WHERE \"PublicKeySha256\" = $1", certificate.PublicKeySha256);
        // One statement for the four inserts; it inserts nothing when the key is blocked (the look-up above says why).
        Add(batch,
            "WITH r AS (INSERT INTO \"Requests\" (\"Profile\", \"Requester\", \"Source\", \"Status\", \"CsrDer\", \"Subject\", \"Identifiers\", \"KeyDescription\", \"Problems\", \"RequiredApprovals\", \"CreatedAt\", \"UpdatedAt\") " +
            "SELECT $1, $2, $3, 'Approved', $4::bytea, $5, $6, $7, '', $8, $9, $9 WHERE NOT EXISTS (SELECT 1 FROM \"BlockedKeys\" WHERE \"PublicKeySha256\" = $14) RETURNING \"Id\"), " +
            "n AS (INSERT INTO \"RequestNames\" (\"RequestId\", \"Name\", \"ReversedName\") SELECT r.\"Id\", x.name, x.reversed FROM r, unnest($10::text[], $11::text[]) AS x(name, reversed)), " +
            "c AS (INSERT INTO \"Certificates\" (\"SerialHex\", \"IssuerName\", \"Subject\", \"Identifiers\", \"Profile\", \"Status\", \"NotBefore\", \"NotAfter\", \"TbsDer\", \"PublicKeySha256\", \"RequestId\", \"CreatedAt\") " +
            "SELECT $12, $13, $15, $16, $1, 'Signing', $17, $18, $19, $14, r.\"Id\", $9 FROM r RETURNING \"Id\", \"RequestId\"), " +
            "a AS (INSERT INTO \"AuditEvents\" (\"At\", \"Actor\", \"Action\", \"Subject\", \"Details\") SELECT $9, $20, $21, $22, $23 FROM r) " +
            "SELECT \"RequestId\", \"Id\" FROM c",
            request.Profile, request.Requester, request.Source, (object?)request.CsrDer ?? DBNull.Value,
            request.Subject.Length <= 1024 ? request.Subject : request.Subject[..1024], string.Join('\n', request.Identifiers), request.KeyDescription, request.RequiredApprovals, at,
            names.Select(n => n.Name).ToArray(), names.Select(n => n.ReversedName).ToArray(),
            certificate.SerialHex, certificate.IssuerName, certificate.PublicKeySha256, certificate.Subject, string.Join('\n', certificate.Identifiers),
            certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(), certificate.TbsDer,
            audit.Actor, audit.Action, $"certificate:{certificate.SerialHex}", Details(audit));
        try
        {
            // Prepared once per pooled connection (Npgsql keeps it across the pool's reuse): the server parses and
            // plans these statements once instead of on every issuance.
            await batch.PrepareAsync(cancellationToken);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var key = new BlockedKey
                {
                    PublicKeySha256 = certificate.PublicKeySha256,
                    Source = reader.GetString(0),
                    Reason = reader.GetString(1),
                    BlockedAt = reader.GetFieldValue<DateTimeOffset>(2),
                    BlockedBy = reader.GetString(3),
                };
                throw new CaException(CaErrorKind.PolicyViolation, key.Problem);
            }

            await reader.NextResultAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new CaException(CaErrorKind.StorageFailed, "The issuance database recorded no certificate before signing.");
            }

            var recorded = (reader.GetInt64(0), reader.GetInt64(1));
            // Read to the end, so that the commit's outcome is known before the HSM is asked to sign.
            while (await reader.NextResultAsync(cancellationToken))
            {
            }

            await reader.DisposeAsync();
            return recorded;
        }
        catch (DbException ex) when (ex.SqlState == "23505" && ex.Message.Contains("IX_Certificates_SerialHex", StringComparison.Ordinal))
        {
            throw new CaException(CaErrorKind.AlreadyExists, "The serial number is already taken.", ex);
        }
        catch (DbException ex)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The issuance database could not record the certificate before signing ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// Stores the signed certificate, marks certificate and request issued, and writes the audit event: one statement
    /// (one round trip), which changes nothing unless the certificate is being signed and its request approved.
    /// </summary>
    public static async Task RecordIssuedAsync(DbConnection connection, long requestId, long certificateId, byte[] certificateDer, AuditEntry audit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var at = now.ToUniversalTime();
        await using var batch = connection.CreateBatch();
        // The request's row is locked first (FOR UPDATE re-reads it if it changed meanwhile), so the certificate's
        // update and the request's stand or fall together.
        Add(batch,
            "WITH q AS (SELECT \"Id\" FROM \"Requests\" WHERE \"Id\" = $4 AND \"Status\" = 'Approved' FOR UPDATE), " +
            "c AS (UPDATE \"Certificates\" SET \"Der\" = $1, \"Status\" = 'Issued', \"IssuedAt\" = $2 WHERE \"Id\" = $3 AND \"RequestId\" = $4 AND \"Status\" = 'Signing' AND EXISTS (SELECT 1 FROM q) RETURNING \"Id\"), " +
            "r AS (UPDATE \"Requests\" SET \"Status\" = 'Issued', \"UpdatedAt\" = $2 WHERE \"Id\" IN (SELECT \"Id\" FROM q) AND EXISTS (SELECT 1 FROM c) RETURNING \"Id\"), " +
            "a AS (INSERT INTO \"AuditEvents\" (\"At\", \"Actor\", \"Action\", \"Subject\", \"Details\") SELECT $2, $5, $6, $7, $8 FROM r) " +
            "SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM r)",
            certificateDer, at, certificateId, requestId, audit.Actor, audit.Action, audit.Subject, Details(audit));
        (long Certificates, long Requests) changed;
        try
        {
            await batch.PrepareAsync(cancellationToken);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            changed = await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
            // Read to the end: the commit's outcome.
            while (await reader.NextResultAsync(cancellationToken))
            {
            }
        }
        catch (DbException ex)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The issuance database could not record the issued certificate ({ex.Message}).", ex);
        }

        if (changed != (1, 1))
        {
            throw changed.Certificates == 0
                ? new CaException(CaErrorKind.InvalidState, $"Certificate {certificateId} of request {requestId} is not being signed; nothing was recorded.")
                : new CaException(CaErrorKind.StorageFailed, $"Certificate {certificateId} was recorded issued but its request {requestId} was not (it changed meanwhile).");
        }
    }

    private static string Details(AuditEntry audit) => audit.Details.Length <= 8192 ? audit.Details : audit.Details[..8192];

    /// <summary>Adds a statement with positional parameters ($1, $2, ...).</summary>
    private static DbBatchCommand Add(DbBatch batch, string sql, params object[] values)
    {
        var command = batch.CreateBatchCommand();
        command.CommandText = sql;
        foreach (var value in values)
        {
            var parameter = command.CreateParameter();
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        batch.BatchCommands.Add(command);
        return command;
    }
}
