using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data;
using MiniCa.Data.Queries;

namespace MiniCa.Hosting;

/// <summary>
/// At start and then every <c>Audit:AnchorLogMinutes</c>, logs the audit chain's anchor (<see cref="AuditChain"/>):
/// a log shipper that keeps the line outside the CA gives <c>minica audit verify --anchor</c> something to check the
/// stored log against later. The first pass runs the chain over the whole log; each later one goes on from the
/// last anchor over the events written since. A line is written only when the anchor moved.
/// </summary>
public sealed class AuditAnchorLog(IDbContextFactory<MiniCaDbContext> contexts, CaOptions options, TimeProvider time, ILogger<AuditAnchorLog> logger) : BackgroundService
{
    private readonly PortalQueries _queries = new(contexts);
    private AuditAnchor? _anchor;

    /// <summary>One pass; returns the anchor now (<see langword="null"/> while no event is settled).</summary>
    public async Task<AuditAnchor?> LogOnceAsync(CancellationToken cancellationToken = default)
    {
        var settledBefore = time.GetUtcNow().AddSeconds(-options.Audit.AnchorSettledSeconds);
        var report = await AuditChain.VerifyAsync(
            _queries.StreamAuditChainAsync(_anchor?.EventId ?? long.MinValue, cancellationToken: cancellationToken), [], settledBefore, _anchor, cancellationToken);
        if (report.Head is { } anchor && anchor != _anchor)
        {
            logger.LogInformation(
                "Audit chain anchor {Anchor} (the audit log up to event {EventId}, written {At:yyyy-MM-dd HH:mm:ss} UTC): keep it outside the CA; `minica audit verify --anchor {Anchor}` checks the log against it",
                anchor, anchor.EventId, report.HeadAt!.Value.UtcDateTime, anchor);
            _anchor = anchor;
        }

        return _anchor;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Audit.AnchorLogMinutes == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Audit.AnchorLogMinutes), time);
        try
        {
            do
            {
                try
                {
                    await LogOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (DatabaseFailure.IsUnavailable(ex))
                {
                    // The outage is logged where it is found; the next pass goes on from the last anchor.
                }
#pragma warning disable CA1031 // A failure here must not stop the CA (a background service's exception stops the host): the next pass tries again.
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    logger.LogWarning("Could not log the audit chain's anchor now: {Reason}", ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
