using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Errors;

namespace MiniCa.Hosting;

/// <summary>
/// A background service that runs one pass at start and then one every <see cref="Interval"/> until the host stops.
/// A pass that fails does not stop the host (a background service's exception would): a database that does not
/// answer is logged where it is found (the health check logs its start and end), anything else is one warning
/// line, and the next pass tries again.
/// </summary>
public abstract class PeriodicPass(TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The clock the passes run by.</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>The service's log.</summary>
    protected ILogger Logger { get; } = logger;

    /// <summary>Time between passes; <see langword="null"/> for none at all.</summary>
    protected abstract TimeSpan? Interval { get; }

    /// <summary>What a pass does, for the warning of one that failed (<c>settle the issuances cut short</c>).</summary>
    protected abstract string Purpose { get; }

    /// <summary>One pass.</summary>
    protected abstract Task RunPassAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Interval is not { } interval)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, Time);
        try
        {
            do
            {
                try
                {
                    await RunPassAsync(stoppingToken);
                }
                catch (Exception ex) when (DatabaseFailure.IsUnavailable(ex))
                {
                    // Logged where the outage is found; the next pass goes on.
                }
#pragma warning disable CA1031 // A failure here must not stop the CA: the next pass tries again.
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    Logger.LogWarning("Could not {Purpose} now: {Reason}", Purpose, ex.Message);
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
