using Microsoft.Extensions.Logging;
using MiniCa.Core.Configuration;
using MiniCa.Core.Ledger;

namespace MiniCa.Hosting;

/// <summary>
/// Every minute, settles the issuances that a stop or a crash cut short (<see cref="IIssuanceLedger.SettleInterruptedAsync"/>):
/// their approved requests would otherwise wait for ever. A certificate recorded as being signed for longer than
/// <see cref="After"/> belongs to no issuance still running, in this process or another: none takes that long (an
/// HSM operation gives up after <c>Hsm:OperationTimeoutSeconds</c>, a database command after 30 s), and a late one
/// would be refused its commit (its request is no longer approved), so nothing is handed out.
/// </summary>
public sealed class InterruptedIssuances(IIssuanceLedger ledger, CaOptions options, TimeProvider time, ILogger<InterruptedIssuances> logger) : PeriodicPass(time, logger)
{
    /// <summary>How long a certificate may be recorded as being signed before its issuance counts as cut short.</summary>
    public TimeSpan After => TimeSpan.FromSeconds(Math.Max(600, 10 * options.Hsm.OperationTimeoutSeconds));

    /// <summary>One pass; returns how many issuances it settled.</summary>
    public async Task<int> SettleOnceAsync(CancellationToken cancellationToken = default)
    {
        var serials = await ledger.SettleInterruptedAsync(Time.GetUtcNow() - After, cancellationToken);
        if (serials.Count > 0)
        {
            Logger.LogWarning(
                "{Count} issuance(s) cut short by a stop or a crash: their requests are marked failed, to be submitted again; certificate(s) {Serials} stay recorded as being signed (OCSP answers for them; revoke them if in doubt)",
                serials.Count, string.Join(", ", serials));
        }

        return serials.Count;
    }

    /// <inheritdoc />
    protected override TimeSpan? Interval => TimeSpan.FromMinutes(1);

    /// <inheritdoc />
    protected override string Purpose => "settle the issuances cut short";

    /// <inheritdoc />
    protected override Task RunPassAsync(CancellationToken cancellationToken) => SettleOnceAsync(cancellationToken);
}
