using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>
/// The issuance hot path on SQLite through plain prepared commands, each write in the group commit's batch
/// (<see cref="SqliteGroupCommit"/>): EF Core's change tracking and batching cost about 0.8 ms per save here,
/// twice per certificate. The rows and guards are the entities' own: a new request is recorded Approved with its
/// name index rows, the certificate Signing with its TBS; at commit only a Signing certificate of an Approved
/// request moves.
/// </summary>
internal static class SqliteIssuanceWriter
{
    private static readonly DateTimeOffsetToBinaryConverter Instants = new();

    /// <summary>Records a new request, its names, the certificate about to be signed and the audit event.</summary>
    public static (long RequestId, long CertificateId) RecordSigning(SqliteGroupCommit batch, RequestDraft request, CertificateDraft certificate, AuditEntry audit, DateTimeOffset now)
    {
        var at = Instant(now);
        // In the transaction that records the certificate: a key blocked by a revocation committed before it is
        // never signed (BR §6.1.1.3 (4)). The unique index makes this one look-up.
        if (batch.Scalar(
                "SELECT \"Source\" || char(10) || \"Reason\" || char(10) || \"BlockedAt\" || char(10) || \"BlockedBy\" FROM \"BlockedKeys\" WHERE \"PublicKeySha256\" = $fingerprint",
                ("$fingerprint", certificate.PublicKeySha256)) is string blocked)
        {
            throw Blocked(certificate.PublicKeySha256, blocked);
        }

        var requestId = (long)batch.Scalar(
            "INSERT INTO \"Requests\" (\"Profile\", \"Requester\", \"Source\", \"Status\", \"CsrDer\", \"Subject\", \"Identifiers\", \"KeyDescription\", \"Problems\", \"RequiredApprovals\", \"CreatedAt\", \"UpdatedAt\") " +
            "VALUES ($profile, $requester, $source, 'Approved', $csr, $subject, $identifiers, $key, '', $approvals, $at, $at) RETURNING \"Id\"",
            ("$profile", request.Profile), ("$requester", request.Requester), ("$source", request.Source), ("$csr", (object?)request.CsrDer ?? DBNull.Value),
            ("$subject", request.Subject.Length <= 1024 ? request.Subject : request.Subject[..1024]), ("$identifiers", string.Join('\n', request.Identifiers)),
            ("$key", request.KeyDescription), ("$approvals", request.RequiredApprovals), ("$at", at))!;
        foreach (var name in RequestNameEntity.For(request.Identifiers))
        {
            batch.Execute("INSERT INTO \"RequestNames\" (\"RequestId\", \"Name\", \"ReversedName\") VALUES ($request, $name, $reversed)",
                ("$request", requestId), ("$name", name.Name), ("$reversed", name.ReversedName));
        }

        long certificateId;
        try
        {
            certificateId = (long)batch.Scalar(
                "INSERT INTO \"Certificates\" (\"SerialHex\", \"IssuerName\", \"Subject\", \"Identifiers\", \"Profile\", \"Status\", \"NotBefore\", \"NotAfter\", \"TbsDer\", \"PublicKeySha256\", \"RequestId\", \"CreatedAt\") " +
                "VALUES ($serial, $issuer, $subject, $identifiers, $profile, 'Signing', $notBefore, $notAfter, $tbs, $fingerprint, $request, $at) RETURNING \"Id\"",
                ("$serial", certificate.SerialHex), ("$issuer", certificate.IssuerName), ("$subject", certificate.Subject), ("$identifiers", string.Join('\n', certificate.Identifiers)),
                ("$profile", certificate.Profile), ("$notBefore", Instant(certificate.NotBefore)), ("$notAfter", Instant(certificate.NotAfter)), ("$tbs", certificate.TbsDer),
                ("$fingerprint", certificate.PublicKeySha256), ("$request", requestId), ("$at", at))!;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19 && ex.Message.Contains("SerialHex", StringComparison.Ordinal))
        {
            throw new CaException(CaErrorKind.AlreadyExists, "The serial number is already taken.", ex);
        }

        InsertAudit(batch, audit with { Subject = $"certificate:{certificate.SerialHex}" }, at);
        return (requestId, certificateId);
    }

    /// <summary>Stores the signed certificate, marks certificate and request issued, and writes the audit event.</summary>
    public static bool RecordIssued(SqliteGroupCommit batch, long requestId, long certificateId, byte[] certificateDer, AuditEntry audit, DateTimeOffset now)
    {
        var at = Instant(now);
        var certificates = batch.Execute(
            "UPDATE \"Certificates\" SET \"Der\" = $der, \"Status\" = 'Issued', \"IssuedAt\" = $at WHERE \"Id\" = $id AND \"RequestId\" = $request AND \"Status\" = 'Signing'",
            ("$der", certificateDer), ("$at", at), ("$id", certificateId), ("$request", requestId));
        var requests = batch.Execute(
            "UPDATE \"Requests\" SET \"Status\" = 'Issued', \"UpdatedAt\" = $at WHERE \"Id\" = $request AND \"Status\" = 'Approved'",
            ("$at", at), ("$request", requestId));
        if (certificates != 1 || requests != 1)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Certificate {certificateId} of request {requestId} is not being signed; nothing was recorded.");
        }

        InsertAudit(batch, audit, at);
        return true;
    }

    /// <summary>The refusal of a blocked key, from its row's fields joined by line feeds.</summary>
    private static CaException Blocked(string keySha256, string row)
    {
        var fields = row.Split('\n');
        var key = new BlockedKey
        {
            PublicKeySha256 = keySha256,
            Source = fields[0],
            Reason = fields[1],
            BlockedAt = (DateTimeOffset)Instants.ConvertFromProvider(long.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture))!,
            BlockedBy = fields[3],
        };
        return new CaException(CaErrorKind.PolicyViolation, key.Problem);
    }

    private static void InsertAudit(SqliteGroupCommit batch, AuditEntry audit, long at) =>
        batch.Execute("INSERT INTO \"AuditEvents\" (\"At\", \"Actor\", \"Action\", \"Subject\", \"Details\") VALUES ($at, $actor, $action, $subject, $details)",
            ("$at", at), ("$actor", audit.Actor), ("$action", audit.Action), ("$subject", audit.Subject), ("$details", audit.Details.Length <= 8192 ? audit.Details : audit.Details[..8192]));

    private static long Instant(DateTimeOffset value) => (long)Instants.ConvertToProvider(value)!;
}
