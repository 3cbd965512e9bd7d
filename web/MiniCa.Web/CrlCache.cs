using System.Collections.Concurrent;
using MiniCa.Core.Ledger;

namespace MiniCa.Web;

/// <summary>
/// The latest CRL of each authority, kept in memory and reloaded only when the published number changes: each
/// request costs one small query instead of reading the whole CRL (50 MB for a million revocations) again.
/// Another node or the CLI publishing a CRL is seen at the next request.
/// </summary>
internal sealed class CrlCache(IRevocationLedger ledger)
{
    private readonly ConcurrentDictionary<string, CrlRecord> _latest = new(StringComparer.Ordinal);

    /// <summary>The latest published CRL of <paramref name="authority"/>, or null when there is none.</summary>
    public async Task<CrlRecord?> FindAsync(string authority, CancellationToken cancellationToken)
    {
        var summary = await ledger.FindCrlSummaryAsync(authority, cancellationToken);
        if (summary is null)
        {
            return null;
        }

        if (_latest.TryGetValue(authority, out var cached) && cached.Number == summary.Number)
        {
            return cached;
        }

        var latest = await ledger.FindCrlAsync(authority, cancellationToken);
        if (latest is not null)
        {
            // Never replace a newer CRL with an older one read by a slower request.
            _latest.AddOrUpdate(authority, latest, (_, current) => current.Number >= latest.Number ? current : latest);
        }

        return latest;
    }
}
