using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>The issuance ledger and reader over EF Core; each step and its audit event share one transaction.</summary>
public sealed class EfIssuanceLedger(IDbContextFactory<MiniCaDbContext> contexts, WriteGate gate, TimeProvider time) : IIssuanceLedger, IIssuanceReader, IAuditLog, IDisposable
{
    private readonly Lock _commitLock = new();
    private SqliteGroupCommit? _groupCommit;
    private PostgresGroupCommit? _postgresCommit;
    private bool _disposed;
    private bool _providerKnown;
    private int _issuing;

    /// <inheritdoc />
    public IDisposable BeginIssuance()
    {
        Interlocked.Increment(ref _issuing);
        return new Issuance(this);
    }

    /// <summary>The SQLite group commit of the issuance hot path, opened on first use; <see langword="null"/> on other providers.</summary>
    private async ValueTask<SqliteGroupCommit?> GroupCommitAsync(CancellationToken cancellationToken)
    {
        await OpenGroupCommitAsync(cancellationToken);
        return Volatile.Read(ref _groupCommit);
    }

    /// <summary>The PostgreSQL group commit of the issuance hot path, opened on first use; <see langword="null"/> on other providers.</summary>
    private async ValueTask<PostgresGroupCommit?> PostgresCommitAsync(CancellationToken cancellationToken)
    {
        await OpenGroupCommitAsync(cancellationToken);
        return Volatile.Read(ref _postgresCommit);
    }

    /// <summary>Opens the provider's group commit once (none on a provider without one); refused once disposed.</summary>
    private async ValueTask OpenGroupCommitAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _providerKnown))
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        lock (_commitLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_providerKnown)
            {
                return;
            }

            if (db.Database.IsSqlite())
            {
                _groupCommit = new SqliteGroupCommit(db.Database.GetConnectionString()!, gate, () => Volatile.Read(ref _issuing));
            }
            else if (db.IsPostgres)
            {
                _postgresCommit = new PostgresGroupCommit(contexts.CreateDbContext);
            }

            Volatile.Write(ref _providerKnown, true);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_commitLock)
        {
            _disposed = true;
            _groupCommit?.Dispose();
            _groupCommit = null;
            _postgresCommit?.Dispose();
            _postgresCommit = null;
        }
    }

    /// <inheritdoc />
    public async Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.AuditEvents.Add(Audit(entry, time.GetUtcNow()));
        await SaveAsync(db, "record the audit event", cancellationToken);
    }

    /// <inheritdoc />
    public async Task RecordAuditKeyRotationAsync(AuditEntry entry, string replacedKeySha256, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentException.ThrowIfNullOrWhiteSpace(replacedKeySha256);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var recorded = Audit(entry, time.GetUtcNow());
        db.AuditEvents.Add(recorded);
        await SaveAsync(db, "record the audit event", cancellationToken);
        db.AuditKeyRotations.Add(new AuditKeyRotationEntity { ReplacedKeySha256 = replacedKeySha256, EventId = recorded.Id });
        try
        {
            await SaveAsync(db, "record the audit key's rotation", cancellationToken);
        }
        catch (CaException e) when (e.InnerException is DbUpdateException { InnerException: { } cause } && cause.Message.Contains("AuditKeyRotations", StringComparison.Ordinal))
        {
            throw new CaException(CaErrorKind.AlreadyExists, "That audit key was replaced already by another rotation.", e);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<long> RecordRequestAsync(RequestDraft request, RequestStatus status, IReadOnlyList<string> problems, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow();
        var entity = CertificateRequestEntity.Create(request, status, problems, now);
        db.Requests.Add(entity);
        await SaveAsync(db, "record the request", cancellationToken);
        // The request number is known only after the insert; the audit event names it.
        db.AuditEvents.Add(Audit(audit with { Subject = $"request:{entity.Id}" }, now));
        await SaveAsync(db, "record the audit event", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return entity.Id;
    }

    /// <inheritdoc />
    public async Task<(long RequestId, long CertificateId)> RecordSigningAsync(RequestDraft? newRequest, long? existingRequestId, CertificateDraft certificate, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(audit);
        var now = time.GetUtcNow();
        if (newRequest is not null && await GroupCommitAsync(cancellationToken) is { } commit)
        {
            return await commit.RunAsync(batch => SqliteIssuanceWriter.RecordSigning(batch, newRequest, certificate, audit, now), cancellationToken);
        }

        if (newRequest is not null && await PostgresCommitAsync(cancellationToken) is { } postgres)
        {
            // No writer's turn: guarded statements under the key's lock, in the next batch.
            return await postgres.RunAsync(PostgresIssuanceWriter.RecordSigning(newRequest, certificate, audit, now, cancellationToken));
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockKeyAsync(certificate.PublicKeySha256, cancellationToken);
        if (await db.FindBlockedKeyAsync(certificate.PublicKeySha256, cancellationToken) is { } blocked)
        {
            // BR §6.1.1.3 (4); as in the SQLite writer, checked where the certificate is recorded.
            throw new CaException(CaErrorKind.PolicyViolation, blocked.Problem);
        }

        CertificateRequestEntity request;
        if (newRequest is not null)
        {
            request = CertificateRequestEntity.Create(newRequest, RequestStatus.Approved, [], now);
            db.Requests.Add(request);
        }
        else
        {
            request = await db.Requests.SingleOrDefaultAsync(r => r.Id == existingRequestId, cancellationToken)
                ?? throw new CaException(CaErrorKind.NotFound, $"Request {existingRequestId} does not exist.");
            request.BeginSigning(now);
        }

        // One SaveChanges, so one transaction and one durable commit: request, certificate row and audit event.
        var entity = request.AttachCertificate(certificate, now);
        db.AuditEvents.Add(Audit(audit with { Subject = $"certificate:{certificate.SerialHex}" }, now));
        await SaveAsync(db, "record the certificate before signing", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (request.Id, entity.Id);
    }

    /// <inheritdoc />
    public async Task RecordIssuedAsync(long requestId, long certificateId, byte[] certificateDer, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var now = time.GetUtcNow();
        if (await GroupCommitAsync(cancellationToken) is { } commit)
        {
            await commit.RunAsync(batch => SqliteIssuanceWriter.RecordIssued(batch, requestId, certificateId, certificateDer, audit, now), cancellationToken);
            return;
        }

        if (await PostgresCommitAsync(cancellationToken) is { } postgres)
        {
            // No writer's turn: one guarded statement, in the next batch.
            await postgres.RunAsync(PostgresIssuanceWriter.RecordIssued(requestId, certificateId, certificateDer, audit, now, cancellationToken));
            return;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The hot path updates in place instead of loading both rows. The WHERE clauses are the entities' guards
        // (CertificateEntity.MarkIssued, CertificateRequestEntity.MarkIssued): only a certificate being signed and
        // an approved request change state, and exactly one row each.
        var certificates = await db.Certificates
            .Where(c => c.Id == certificateId && c.RequestId == requestId && c.Status == CertificateStatus.Signing)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Der, certificateDer).SetProperty(c => c.Status, CertificateStatus.Issued).SetProperty(c => c.IssuedAt, now), cancellationToken);
        var requests = await db.Requests
            .Where(r => r.Id == requestId && r.Status == RequestStatus.Approved)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, RequestStatus.Issued).SetProperty(r => r.UpdatedAt, now), cancellationToken);
        if (certificates != 1 || requests != 1)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Certificate {certificateId} of request {requestId} is not being signed; nothing was recorded.");
        }

        db.AuditEvents.Add(Audit(audit, now));
        await SaveAsync(db, "record the issued certificate", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<RequestStatus> RecordDecisionAsync(long requestId, string officer, bool approve, string comment, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var request = await db.Requests.Include(r => r.Approvals).SingleOrDefaultAsync(r => r.Id == requestId, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"Request {requestId} does not exist.");
        request.Decide(officer, approve, comment, now);
        db.AuditEvents.Add(Audit(audit, now));
        await SaveAsync(db, "record the decision", cancellationToken);
        return request.Status;
    }

    /// <inheritdoc />
    public async Task RecordFailedAsync(long requestId, long? certificateId, string reason, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var request = await db.Requests.SingleAsync(r => r.Id == requestId, cancellationToken);
        request.MarkFailed(reason, now);
        if (certificateId is { } id)
        {
            (await db.Certificates.SingleAsync(c => c.Id == id, cancellationToken)).MarkFailed(reason);
        }

        db.AuditEvents.Add(Audit(audit, now));
        await SaveAsync(db, "record the failure", cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> SettleInterruptedAsync(DateTimeOffset recordedBefore, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var interrupted = await db.Certificates
            .Where(c => c.Status == CertificateStatus.Signing && c.CreatedAt < recordedBefore)
            .Join(db.Requests.Where(r => r.Status == RequestStatus.Approved), c => c.RequestId, r => r.Id, (c, r) => new { c.Id, Certificate = c.SerialHex, Request = r })
            .OrderBy(row => row.Id)
            .Take(1000)
            .ToListAsync(cancellationToken);
        if (interrupted.Count == 0)
        {
            return [];
        }

        var now = time.GetUtcNow();
        foreach (var row in interrupted)
        {
            var reason = $"The CA stopped while it was signing certificate {row.Certificate} for this request, before recording it issued; submit the request again. " +
                         "The certificate stays recorded as being signed: OCSP answers for it, and it can be revoked.";
            row.Request.MarkFailed(reason, now);
            db.AuditEvents.Add(Audit(new AuditEntry("minica", "request.interrupted", $"request:{row.Request.Id}", $"certificate {row.Certificate} was still being signed"), now));
        }

        await SaveAsync(db, "record the interrupted issuances", cancellationToken);
        return interrupted.Select(row => row.Certificate).ToList();
    }

    /// <inheritdoc />
    public async Task<BlockedKey?> FindBlockedKeyAsync(string publicKeySha256, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.FindBlockedKeyAsync(publicKeySha256, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<BlockedKey>> ListBlockedKeysAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.BlockedKeys.AsNoTracking().OrderByDescending(b => b.Id).Take(limit).ToListAsync(cancellationToken);
        return rows.Select(b => b.ToDomain()).ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RequestRecord>> ListRequestsAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Requests.AsNoTracking().Include(r => r.Certificate).Include(r => r.Approvals).OrderByDescending(r => r.Id).Take(limit).ToListAsync(cancellationToken);
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <inheritdoc />
    public async Task<RequestRecord?> FindRequestAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Requests.AsNoTracking().Include(r => r.Certificate).Include(r => r.Approvals).SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<CertificateRecord?> FindCertificateAsync(string serialHex, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Certificates.AsNoTracking().SingleOrDefaultAsync(c => c.SerialHex == serialHex, cancellationToken);
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<CertificateRecord?> FindLatestIssuedAsync(string profile, string subject, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Certificates.AsNoTracking()
            .Where(c => c.Profile == profile && c.Subject == subject && c.Status == CertificateStatus.Issued)
            .OrderByDescending(c => c.Id)
            .FirstOrDefaultAsync(cancellationToken);
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<CertificateStatus, int>> CountCertificatesAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Certificates.GroupBy(c => c.Status).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.AuditEvents.AsNoTracking().OrderByDescending(a => a.Id).Take(limit)
            .Select(a => new AuditEntry(a.Actor, a.Action, a.Subject, a.Details)).ToListAsync(cancellationToken);
    }

    private static AuditEventEntity Audit(AuditEntry entry, DateTimeOffset now) => new()
    {
        At = now,
        Actor = entry.Actor,
        Action = entry.Action,
        Subject = entry.Subject,
        Details = entry.Details.Length <= 8192 ? entry.Details : entry.Details[..8192],
    };

    private static async Task SaveAsync(MiniCaDbContext db, string what, CancellationToken cancellationToken)
    {
        try
        {
            if (db.Database.IsSqlite())
            {
                // Microsoft.Data.Sqlite does its I/O synchronously either way; EF's async pipeline only adds
                // overhead (measured: 0.73 ms against 0.48 ms per single-row commit) on the issuance hot path.
                db.SaveChanges();
            }
            else
            {
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        catch (DbUpdateException ex) when (ex.InnerException?.Message.Contains("Certificates.SerialHex", StringComparison.Ordinal) == true
                                           || ex.InnerException?.Message.Contains("IX_Certificates_SerialHex", StringComparison.Ordinal) == true)
        {
            throw new CaException(CaErrorKind.AlreadyExists, "The serial number is already taken.", ex);
        }
        catch (DbUpdateException ex)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The issuance database could not {what} ({StoreFailures.Reason(ex)}).", ex);
        }
    }

    private sealed class Issuance(EfIssuanceLedger ledger) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                Interlocked.Decrement(ref ledger._issuing);
                Volatile.Read(ref ledger._groupCommit)?.Nudge();
            }
        }
    }
}
