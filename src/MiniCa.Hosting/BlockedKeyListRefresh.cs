using Microsoft.Extensions.Logging;
using MiniCa.Core.Requests;

namespace MiniCa.Hosting;

/// <summary>
/// Every ten seconds, reads the blocked key lists (<c>BlockedKeyLists</c>) again when a file has changed, so that a
/// list replaced while the web host runs (a newly published list of leaked keys) is refused from at once, without a
/// restart that would stop OCSP and ACME. A changed file with a bad line leaves the lists read before in force, and
/// says so once, naming the file and line. Off when no list is configured.
/// </summary>
public sealed class BlockedKeyListRefresh(BlockedKeyLists lists, TimeProvider time, ILogger<BlockedKeyListRefresh> logger) : PeriodicPass(time, logger)
{
    /// <inheritdoc />
    protected override TimeSpan? Interval => lists.Files.Count == 0 ? null : TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    protected override string Purpose => "read the blocked key lists again";

    /// <inheritdoc />
    protected override Task RunPassAsync(CancellationToken cancellationToken)
    {
        if (lists.Refresh(out var error))
        {
            Logger.LogInformation("Blocked key lists read again after a change: {Count} RSA keys refused, from {Files}", lists.Count, string.Join(", ", lists.Files));
        }
        else if (error is not null)
        {
            Logger.LogError("{Error} The lists read before stay in force ({Count} RSA keys) until the file is mended.", error, lists.Count);
        }

        return Task.CompletedTask;
    }
}
