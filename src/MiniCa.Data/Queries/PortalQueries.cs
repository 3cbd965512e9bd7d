using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Ledger;
using MiniCa.Core.Serials;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Queries;

/// <summary>
/// The portal's and the REST API's read side: paged, filtered lists served from indexes, so a queue of 100,000
/// pending requests or a search over a million certificates stays fast. Reads only.
/// </summary>
public sealed class PortalQueries(IDbContextFactory<MiniCaDbContext> contexts)
{
    private const string Escape = "\\";

    /// <summary>Pending, issued, revoked, and issued certificates that expire within 30 days of <paramref name="now"/>.</summary>
    public async Task<PortalCounts> CountsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var pending = await db.Requests.CountAsync(r => r.Status == RequestStatus.Pending, cancellationToken);
        var issued = await db.Certificates.CountAsync(c => c.Status == CertificateStatus.Issued, cancellationToken);
        var revoked = await db.Certificates.CountAsync(c => c.Status == CertificateStatus.Revoked, cancellationToken);
        var soon = now.AddDays(30);
        var expiring = await db.Certificates.CountAsync(c => c.Status == CertificateStatus.Issued && c.NotAfter > now && c.NotAfter <= soon, cancellationToken);
        return new PortalCounts(pending, issued, revoked, expiring);
    }

    /// <summary>Certificates issued on each of the last <paramref name="days"/> UTC days, oldest first.</summary>
    public async Task<IReadOnlyList<DailyCount>> IssuedPerDayAsync(DateTimeOffset now, int days = 30, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var result = new List<DailyCount>(days);
        // One indexed range count per day: exact on SQLite (instants stored as numbers) and PostgreSQL alike.
        for (var i = days - 1; i >= 0; i--)
        {
            var day = today.AddDays(-i);
            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            var end = start.AddDays(1);
            var count = await db.Certificates.CountAsync(c => c.IssuedAt >= start && c.IssuedAt < end, cancellationToken);
            result.Add(new DailyCount(day, count));
        }

        return result;
    }

    /// <summary>A page of requests.</summary>
    public async Task<Page<RequestRow>> RequestsAsync(RequestQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = db.Requests.AsNoTracking();
        if (query.Status is { } status)
        {
            rows = rows.Where(r => r.Status == status);
        }

        if (!string.IsNullOrWhiteSpace(query.Requester))
        {
            rows = rows.Where(r => r.Requester == query.Requester);
        }

        if (!string.IsNullOrWhiteSpace(query.Profile))
        {
            rows = rows.Where(r => r.Profile == query.Profile);
        }

        if (Matching(db, query.Text) is { } named)
        {
            rows = rows.Where(r => named.Contains(r.Id));
        }

        var total = await rows.CountAsync(cancellationToken);
        rows = query.OldestFirst ? rows.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id) : rows.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id);
        var size = Math.Clamp(query.PageSize, 1, 200);
        var page = await rows.Skip(Math.Max(0, query.Page) * size).Take(size)
            .Select(r => new
            {
                r.Id, r.Profile, r.Requester, r.Source, r.Status, r.Subject, r.Identifiers, r.RequiredApprovals, r.CreatedAt,
                Approvals = r.Approvals.Count(a => a.Decision == "Approved"),
                Serial = r.Certificate == null ? null : r.Certificate.SerialHex,
            })
            .ToListAsync(cancellationToken);
        return new Page<RequestRow>(page.Select(r => new RequestRow(r.Id, r.Profile, r.Requester, r.Source, r.Status, r.Subject,
            CertificateRequestEntity.Split(r.Identifiers), r.RequiredApprovals, r.Approvals, r.CreatedAt, r.Serial)).ToList(), total);
    }

    /// <summary>One request with its decisions, or <see langword="null"/>.</summary>
    public async Task<RequestDetail?> RequestAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var r = await db.Requests.AsNoTracking().Include(x => x.Approvals).Include(x => x.Certificate)
            .SingleOrDefaultAsync(x => x.Id == id, cancellationToken);
        if (r is null)
        {
            return null;
        }

        var row = new RequestRow(r.Id, r.Profile, r.Requester, r.Source, r.Status, r.Subject, CertificateRequestEntity.Split(r.Identifiers),
            r.RequiredApprovals, r.Approvals.Count(a => a.Decision == "Approved"), r.CreatedAt, r.Certificate?.SerialHex);
        return new RequestDetail(row, CertificateRequestEntity.Split(r.Problems), r.KeyDescription, r.CsrDer,
            r.Approvals.OrderBy(a => a.At).Select(a => new DecisionRow(a.Officer, a.Decision, a.Comment, a.At)).ToList());
    }

    /// <summary>A page of certificates, newest first.</summary>
    public async Task<Page<CertificateRow>> CertificatesAsync(CertificateQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // Every row is listed, failed signing attempts too (labelled): operators want to see them.
        var rows = db.Certificates.AsNoTracking();
        if (NormalizeSerial(query.Serial) is { Length: > 0 } serial)
        {
            // A prefix range on the unique index: "0a1b" matches 0a1b… without a scan.
            var upper = serial + "g";
            rows = rows.Where(c => string.Compare(c.SerialHex, serial) >= 0 && string.Compare(c.SerialHex, upper) < 0);
        }

        if (Matching(db, query.Text) is { } named)
        {
            rows = rows.Where(c => named.Contains(c.RequestId));
        }

        if (!string.IsNullOrWhiteSpace(query.Profile))
        {
            rows = rows.Where(c => c.Profile == query.Profile);
        }

        if (query.Status is { } status)
        {
            rows = rows.Where(c => c.Status == status);
        }

        if (query.ExpiresBefore is { } before)
        {
            rows = rows.Where(c => c.NotAfter < before);
        }

        if (!string.IsNullOrWhiteSpace(query.Owner))
        {
            var owned = db.Requests.Where(r => r.Requester == query.Owner).Select(r => r.Id);
            rows = rows.Where(c => owned.Contains(c.RequestId));
        }

        var total = await rows.CountAsync(cancellationToken);
        var size = Math.Clamp(query.PageSize, 1, 200);
        // Two steps: the page's ids from a narrow index (a deep page skips index entries, not wide rows), then
        // the rows themselves by primary key.
        var ids = await rows.OrderByDescending(c => c.Id).Skip(Math.Max(0, query.Page) * size).Take(size).Select(c => c.Id).ToListAsync(cancellationToken);
        var page = await db.Certificates.AsNoTracking().Where(c => ids.Contains(c.Id)).OrderByDescending(c => c.Id)
            .Select(c => new { c.SerialHex, c.IssuerName, c.Subject, c.Identifiers, c.Profile, c.Status, c.NotBefore, c.NotAfter, c.RequestId, c.RevokedAt, c.RevocationReason })
            .ToListAsync(cancellationToken);
        return new Page<CertificateRow>(page.Select(c => new CertificateRow(c.SerialHex, c.IssuerName, c.Subject, CertificateRequestEntity.Split(c.Identifiers),
            c.Profile, c.Status, c.NotBefore, c.NotAfter, c.RequestId, c.RevokedAt, c.RevocationReason)).ToList(), total);
    }

    /// <summary>One certificate with its requester, or <see langword="null"/>.</summary>
    public async Task<CertificateDetail?> CertificateAsync(string serial, CancellationToken cancellationToken = default)
    {
        var normalized = NormalizeSerial(serial);
        if (string.IsNullOrEmpty(normalized))
        {
            return null;
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var found = await db.Certificates.AsNoTracking().Where(c => c.SerialHex == normalized)
            .Join(db.Requests, c => c.RequestId, r => r.Id, (c, r) => new { c, r.Requester })
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        var c = found.c;
        return new CertificateDetail(new CertificateRow(c.SerialHex, c.IssuerName, c.Subject, CertificateRequestEntity.Split(c.Identifiers), c.Profile,
            c.Status, c.NotBefore, c.NotAfter, c.RequestId, c.RevokedAt, c.RevocationReason), found.Requester, c.Der);
    }

    /// <summary>A page of audit events, newest first.</summary>
    public async Task<Page<AuditRow>> AuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = Filter(db.AuditEvents.AsNoTracking(), query);
        var total = await rows.CountAsync(cancellationToken);
        var size = Math.Clamp(query.PageSize, 1, 1000);
        var page = await Rows(rows.OrderByDescending(a => a.Id).Skip(Math.Max(0, query.Page) * size).Take(size)).ToListAsync(cancellationToken);
        return new Page<AuditRow>(page, total);
    }

    /// <summary>Every audit event that matches, newest first, streamed (for CSV export).</summary>
    public async IAsyncEnumerable<AuditRow> StreamAuditAsync(AuditQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = Rows(Filter(db.AuditEvents.AsNoTracking(), query).OrderByDescending(a => a.Id));
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return row;
        }
    }

    /// <summary>
    /// Runs the audit chain (<see cref="AuditChain.VerifyAsync"/>) over the stored log, or, from
    /// <paramref name="from"/>, over the events after its event.
    /// </summary>
    public Task<AuditChainReport> CheckAuditChainAsync(IReadOnlyCollection<AuditAnchor> anchors, DateTimeOffset settledBefore, AuditAnchor? from = null, CancellationToken cancellationToken = default) =>
        AuditChain.VerifyAsync(StreamAuditChainAsync(from?.EventId ?? long.MinValue, cancellationToken: cancellationToken), anchors, settledBefore, from, cancellationToken);

    /// <summary>Up to <paramref name="limit"/> audit events after event <paramref name="after"/>, oldest first (the API's feed for a SIEM).</summary>
    public async Task<IReadOnlyList<AuditRow>> AuditEventsAfterAsync(long after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await Rows(db.AuditEvents.AsNoTracking().Where(a => a.Id > after).OrderBy(a => a.Id).Take(limit)).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// The events that hold signed anchors (<see cref="SignedAuditAnchor"/>), oldest first. Found through the index
    /// on the actor, so a million-event log is not read for them.
    /// </summary>
    public Task<IReadOnlyList<AuditRow>> SignedAnchorEventsAsync(CancellationToken cancellationToken = default) =>
        CaEventsAsync(SignedAuditAnchor.Action, cancellationToken);

    /// <summary>
    /// The events that hold signed anchors stored before event <paramref name="before"/>, newest first, at most
    /// <paramref name="limit"/>: the signing pass looks for the newest valid one without reading them all.
    /// </summary>
    public async Task<IReadOnlyList<AuditRow>> SignedAnchorEventsNewestFirstAsync(long before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await Rows(CaEvents(db, SignedAuditAnchor.Action).Where(a => a.Id < before).OrderByDescending(a => a.Id).Take(limit)).ToListAsync(cancellationToken);
    }

    /// <summary>Every event that records a rotation of the audit key (<see cref="AuditKeyRotation"/>), oldest first.</summary>
    public Task<IReadOnlyList<AuditRow>> AuditKeyRotationEventsAsync(CancellationToken cancellationToken = default) =>
        CaEventsAsync(AuditKeyRotation.Action, cancellationToken);

    /// <summary>The CA's own events (actor <see cref="SignedAuditAnchor.Actor"/>, through the actor's index) of <paramref name="action"/>, oldest first.</summary>
    private async Task<IReadOnlyList<AuditRow>> CaEventsAsync(string action, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await Rows(CaEvents(db, action).OrderBy(a => a.Id)).ToListAsync(cancellationToken);
    }

    /// <summary>The CA's own events of <paramref name="action"/>, unread and untracked.</summary>
    private static IQueryable<AuditEventEntity> CaEvents(MiniCaDbContext db, string action) =>
        db.AuditEvents.AsNoTracking().Where(a => a.Actor == SignedAuditAnchor.Actor && a.Action == action);

    /// <summary>Audit events as the rows the queries return.</summary>
    private static IQueryable<AuditRow> Rows(IQueryable<AuditEventEntity> events) =>
        events.Select(a => new AuditRow(a.Id, a.At, a.Actor, a.Action, a.Subject, a.Details));

    /// <summary>
    /// Whether an event other than a signed anchor's was written after event <paramref name="after"/> and up to event
    /// <paramref name="upTo"/>: with none, a new signed anchor would only cover the last one.
    /// </summary>
    public async Task<bool> HasEventsToAnchorAsync(long after, long upTo, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.AuditEvents.AsNoTracking()
            .AnyAsync(a => a.Id > after && a.Id <= upTo && (a.Actor != SignedAuditAnchor.Actor || a.Action != SignedAuditAnchor.Action), cancellationToken);
    }

    /// <summary>
    /// Every audit event after event <paramref name="after"/>, oldest first (for the audit chain), read
    /// <paramref name="chunk"/> ids at a time, each chunk its own short read: one read left open over a large log
    /// would hold back SQLite's checkpoint meanwhile.
    /// </summary>
    private async IAsyncEnumerable<AuditChainEvent> StreamAuditChainAsync(long after = long.MinValue, int chunk = 5_000, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        while (true)
        {
            var rows = await AuditEventsAfterAsync(after, chunk, cancellationToken);
            foreach (var row in rows)
            {
                yield return new AuditChainEvent(row.Id, row.At, row.Actor, row.Action, row.Subject, row.Details);
            }

            if (rows.Count < chunk)
            {
                yield break;
            }

            after = rows[^1].Id;
        }
    }

    /// <summary>Lowercase hex without separators or leading zeros (as stored), or <see langword="null"/> when the text is no serial.</summary>
    public static string? NormalizeSerial(string? serial) => SerialText.Normalize(serial);

    private static IQueryable<AuditEventEntity> Filter(IQueryable<AuditEventEntity> rows, AuditQuery query)
    {
        if (!string.IsNullOrWhiteSpace(query.Actor))
        {
            rows = rows.Where(a => a.Actor == query.Actor);
        }

        if (!string.IsNullOrWhiteSpace(query.Action))
        {
            var prefix = query.Action.Trim();
            rows = rows.Where(a => a.Action.StartsWith(prefix));
        }

        if (Like(query.Text) is { } like)
        {
            // The audit log is read by few and filtered by time first; a LIKE over its text is acceptable there.
            // Lowercased on both sides: case-blind on every provider (SQLite's LIKE is for ASCII, PostgreSQL's is not).
            var text = like.ToLowerInvariant();
            rows = rows.Where(a => EF.Functions.Like(a.Subject.ToLower(), text, Escape) || EF.Functions.Like(a.Details.ToLower(), text, Escape));
        }

        if (query.From is { } from)
        {
            rows = rows.Where(a => a.At >= from);
        }

        if (query.To is { } to)
        {
            rows = rows.Where(a => a.At < to);
        }

        return rows;
    }

    /// <summary>
    /// Requests with an identifier that starts with <paramref name="text"/> or lies in the domain it names
    /// (<c>example.com</c> finds <c>www.example.com</c>): two index ranges on the name table, never a scan.
    /// </summary>
    private static IQueryable<long>? Matching(MiniCaDbContext db, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var value = RequestNameEntity.ValueOf(text.Trim());
        var upper = value + "\uffff";
        var domain = RequestNameEntity.Reverse(value.Trim('.')) + ".";
        var domainUpper = domain + "\uffff";
        return db.RequestNames
            .Where(n => (string.Compare(n.Name, value) >= 0 && string.Compare(n.Name, upper) < 0)
                        || (string.Compare(n.ReversedName, domain) >= 0 && string.Compare(n.ReversedName, domainUpper) < 0))
            .Select(n => n.RequestId);
    }

    /// <summary>A LIKE pattern that finds <paramref name="text"/> anywhere, with the wildcards in it taken literally.</summary>
    private static string? Like(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim();
        if (trimmed.Length > 200)
        {
            trimmed = trimmed[..200];
        }

        var escaped = trimmed.Replace(Escape, Escape + Escape, StringComparison.Ordinal)
            .Replace("%", Escape + "%", StringComparison.Ordinal).Replace("_", Escape + "_", StringComparison.Ordinal);
        return "%" + escaped + "%";
    }
}
