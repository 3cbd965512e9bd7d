using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Hosting;

/// <summary>
/// Every minute, settles the issuances that a stop or a crash cut short (<see cref="IIssuanceLedger.SettleInterruptedAsync"/>):
/// their approved requests would otherwise wait for ever. A certificate recorded as being signed for longer than
/// <see cref="After"/> belongs to no issuance still running, in this process or another: none takes that long (an
/// HSM operation gives up after <c>Hsm:OperationTimeoutSeconds</c>, a database command after 30 s), and a late one
/// would be refused its commit (its request is no longer approved), so nothing is handed out.
/// </summary>
public sealed class InterruptedIssuances(IIssuanceLedger ledger, CaOptions options, TimeProvider time, ILogger<InterruptedIssuances> logger) : BackgroundService
{
    /// <summary>How long a certificate may be recorded as being signed before its issuance counts as cut short.</summary>
    public TimeSpan After => TimeSpan.FromSeconds(Math.Max(600, 10 * options.Hsm.OperationTimeoutSeconds));

    /// <summary>One pass; returns how many issuances it settled.</summary>
    public async Task<int> SettleOnceAsync(CancellationToken cancellationToken = default)
    {
        var serials = await ledger.SettleInterruptedAsync(time.GetUtcNow() - After, cancellationToken);
        if (serials.Count > 0)
        {
            logger.LogWarning(
                "{Count} issuance(s) cut short by a stop or a crash: their requests are marked failed, to be submitted again; certificate(s) {Serials} stay recorded as being signed (OCSP answers for them; revoke them if in doubt)",
                serials.Count, string.Join(", ", serials));
        }

        return serials.Count;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        try
        {
            do
            {
                try
                {
                    await SettleOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (DatabaseFailure.IsUnavailable(ex))
                {
                    // The outage is logged where it is found; the next pass settles what is left.
                }
#pragma warning disable CA1031 // A failure here must not stop the CA (a background service's exception stops the host): the next pass tries again.
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    logger.LogWarning("Could not settle the issuances cut short now: {Reason}", ex.Message);
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
