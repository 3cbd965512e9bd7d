using Microsoft.EntityFrameworkCore;
using MiniCa.Data.Entities;

namespace MiniCa.Data;

/// <summary>Fills the name search index for requests recorded before the index existed (runs once, at start).</summary>
public static class SearchIndex
{
    private const int Batch = 5_000;

    /// <summary>Adds index rows for every request when the index is empty but requests exist; returns how many requests were indexed.</summary>
    public static async Task<int> BackfillAsync(IDbContextFactory<MiniCaDbContext> contexts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        await using (var probe = await contexts.CreateDbContextAsync(cancellationToken))
        {
            if (await probe.RequestNames.AnyAsync(cancellationToken) || !await probe.Requests.AnyAsync(r => r.Identifiers != string.Empty, cancellationToken))
            {
                return 0;
            }
        }

        var indexed = 0;
        long after = 0;
        while (true)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var batch = await db.Requests.AsNoTracking().Where(r => r.Id > after).OrderBy(r => r.Id).Take(Batch)
                .Select(r => new { r.Id, r.Identifiers }).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                return indexed;
            }

            foreach (var request in batch)
            {
                db.RequestNames.AddRange(RequestNameEntity.For(request.Id, CertificateRequestEntity.Split(request.Identifiers)));
            }

            await db.SaveChangesAsync(cancellationToken);
            indexed += batch.Count;
            after = batch[^1].Id;
        }
    }
}
