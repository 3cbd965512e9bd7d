using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Core.Revocation;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>Revocations and CRL state over EF Core.</summary>
public sealed class EfRevocationLedger(IDbContextFactory<MiniCaDbContext> contexts, WriteGate gate, TimeProvider time) : IRevocationLedger
{
    /// <summary>Attempts at reserving a CRL number when another node reserved one at the same moment.</summary>
    private const int ReserveAttempts = 10;

    /// <inheritdoc />
    public async Task<CertificateRecord> RecordRevocationAsync(string serialHex, RevocationReason reason, DateTimeOffset? invalidityDate, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var certificate = await db.Certificates.SingleOrDefaultAsync(c => c.SerialHex == serialHex, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"No certificate with serial {serialHex} was issued by this CA.");
        var now = time.GetUtcNow();
        certificate.Revoke(RevocationReasons.Name(reason), invalidityDate, now);
        db.AuditEvents.Add(new AuditEventEntity
        {
            At = now,
            Actor = audit.Actor,
            Action = audit.Action,
            Subject = $"certificate:{serialHex}",
            Details = audit.Details,
        });
        await db.SaveChangesAsync(cancellationToken);
        return certificate.ToRecord();
    }

    /// <inheritdoc />
    public IEnumerable<RevokedEntry> ReadRevoked(string issuerName)
    {
        using var db = contexts.CreateDbContext();
        // A no-tracking projection streams row by row: a million revocations never become a million entities.
        var rows = db.Certificates.AsNoTracking()
            .Where(c => c.IssuerName == issuerName && c.Status == Core.Ledger.CertificateStatus.Revoked)
            .OrderBy(c => c.Id)
            .Select(c => new { c.SerialHex, c.RevokedAt, c.RevocationReason, c.InvalidityDate })
            .AsEnumerable();
        foreach (var row in rows)
        {
            yield return new RevokedEntry(row.SerialHex, row.RevokedAt!.Value, RevocationReasons.Parse(row.RevocationReason!), row.InvalidityDate);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<(string SerialHex, DateTimeOffset RevokedAt)>> RevokedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Certificates.AsNoTracking()
            .Where(c => c.Status == Core.Ledger.CertificateStatus.Revoked && c.RevokedAt >= since)
            .Select(c => new { c.SerialHex, c.RevokedAt })
            .ToListAsync(cancellationToken);
        return rows.Select(r => (r.SerialHex, r.RevokedAt!.Value)).ToList();
    }

    /// <inheritdoc />
    public async Task<long> ReserveCrlNumberAsync(string authority, CancellationToken cancellationToken = default)
    {
        using var turn = await gate.EnterAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var state = await db.CrlStates.SingleOrDefaultAsync(s => s.Authority == authority, cancellationToken);
            if (state is null)
            {
                state = new CrlStateEntity { Authority = authority };
                db.CrlStates.Add(state);
            }

            state.LastNumber++;
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return state.LastNumber;
            }
            catch (DbUpdateException) when (attempt < ReserveAttempts)
            {
                // Another node reserved a number (or created the row) first: read again and take the next one.
            }
        }
    }

    /// <inheritdoc />
    public async Task RecordCrlAsync(CrlRecord crl, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(crl);
        ArgumentNullException.ThrowIfNull(audit);
        using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var state = await db.CrlStates.SingleOrDefaultAsync(s => s.Authority == crl.Authority, cancellationToken)
            ?? throw new CaException(CaErrorKind.InvalidState, $"CRL number {crl.Number} of '{crl.Authority}' was never reserved.");
        if (crl.Number <= state.PublishedNumber)
        {
            // A newer CRL was published meanwhile (another node): keep it.
            return;
        }

        state.PublishedNumber = crl.Number;
        state.ThisUpdate = crl.ThisUpdate;
        state.NextUpdate = crl.NextUpdate;
        state.Entries = crl.Entries;
        state.Der = crl.Der;
        db.AuditEvents.Add(new AuditEventEntity { At = time.GetUtcNow(), Actor = audit.Actor, Action = audit.Action, Subject = audit.Subject, Details = audit.Details });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<CrlRecord?> FindCrlAsync(string authority, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var state = await db.CrlStates.AsNoTracking().SingleOrDefaultAsync(s => s.Authority == authority && s.Der != null, cancellationToken);
        return state is null
            ? null
            : new CrlRecord(state.Authority, state.PublishedNumber, state.ThisUpdate!.Value, state.NextUpdate!.Value, state.Entries, state.Der!);
    }
}
