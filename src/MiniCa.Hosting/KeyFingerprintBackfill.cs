using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Ledger;

namespace MiniCa.Hosting;

/// <summary>
/// Once after start, records the key fingerprint of certificates issued before MiniCa kept it, in batches beside
/// issuance, so that a later keyCompromise revocation finds every certificate of the key without waiting for it (the
/// revocation would fill what is left first).
/// </summary>
public sealed class KeyFingerprintBackfill(IRevocationLedger ledger, ILogger<KeyFingerprintBackfill> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var filled = await ledger.FillKeyFingerprintsAsync(stoppingToken);
            if (filled > 0)
            {
                logger.LogInformation("Key fingerprints recorded for {Count} certificate(s) issued before they were kept", filled);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the next start goes on where this one stopped.
        }
#pragma warning disable CA1031 // A failure here must not stop the CA: a keyCompromise revocation fills what is left itself.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogWarning("Could not record the key fingerprints of earlier certificates now: {Reason}", ex.Message);
        }
    }
}
