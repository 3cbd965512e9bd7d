using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Ocsp;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Hosting;

/// <summary>
/// Keeps pre-signed OCSP responses fresh without waiting for requests: right after a revocation (in this process,
/// or within a second for one made elsewhere) and before each response reaches half its life.
/// </summary>
public sealed class OcspPreSigner(OcspResponder responder, RevocationService revocations, ILogger<OcspPreSigner> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>How often the database is tried while it does not answer.</summary>
    private static readonly TimeSpan OutageInterval = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _revoked = new(0, int.MaxValue);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        revocations.Revoked += OnRevoked;
        var down = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var signed = await responder.RefreshAsync(stoppingToken);
                    if (down)
                    {
                        logger.LogInformation("OCSP pre-signing: the issuance database answers again");
                        down = false;
                    }

                    if (signed > 0)
                    {
                        logger.LogDebug("Pre-signed {Count} OCSP responses", signed);
                    }
                }
                catch (Exception ex) when (DatabaseFailure.IsUnavailable(ex))
                {
                    // Logged once an outage; looked at again less often until the database answers.
                    if (!down)
                    {
                        logger.LogError("OCSP responses cannot be pre-signed: the issuance database does not answer ({Reason}); trying every {Seconds} s", ex.GetBaseException().Message, OutageInterval.TotalSeconds);
                        down = true;
                    }

                    await Task.Delay(OutageInterval, stoppingToken);
                    continue;
                }
                catch (CaException ex)
                {
                    logger.LogError("OCSP responses could not be pre-signed: {Reason}", ex.Message);
                }

                await _revoked.WaitAsync(Interval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            revocations.Revoked -= OnRevoked;
        }
    }

    private void OnRevoked(CertificateRecord certificate) => _revoked.Release();

    /// <inheritdoc />
    public override void Dispose()
    {
        _revoked.Dispose();
        base.Dispose();
    }
}
