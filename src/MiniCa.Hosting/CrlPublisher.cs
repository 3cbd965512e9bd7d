using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Hosting;

/// <summary>
/// Keeps every authority's CRL fresh: generated on start when missing, again when half of its validity has
/// passed, and shortly after each revocation (debounced, so a burst of revocations makes one CRL).
/// </summary>
public sealed class CrlPublisher(
    CrlService crls,
    RevocationService revocations,
    IRevocationLedger ledger,
    CaOptions options,
    TimeProvider time,
    ILogger<CrlPublisher> logger) : BackgroundService
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim _revoked = new(0, int.MaxValue);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        revocations.Revoked += OnRevoked;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wake = await RefreshDueAsync(stoppingToken);
                var delay = wake - time.GetUtcNow();
                // Look again at least hourly (a clock change, a CRL published by another node).
                delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : delay;

                if (await _revoked.WaitAsync(delay, stoppingToken))
                {
                    await Task.Delay(TimeSpan.FromSeconds(options.Crl.RevocationDelaySeconds), time, stoppingToken);
                    while (_revoked.CurrentCount > 0)
                    {
                        await _revoked.WaitAsync(stoppingToken);
                    }
                }
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

    /// <summary>
    /// Generates every CRL that is missing or half-expired. The web host calls this before it serves, so
    /// <c>/crl/{ca}.crl</c> never answers 404 on a first start.
    /// </summary>
    public Task PublishDueAsync(CancellationToken cancellationToken) => RefreshDueAsync(cancellationToken);

    /// <summary>Generates every CRL that is missing, half-expired or affected by a revocation; returns when to look again.</summary>
    private async Task<DateTimeOffset> RefreshDueAsync(CancellationToken cancellationToken)
    {
        string[] dirty;
        lock (_dirty)
        {
            dirty = [.. _dirty];
            _dirty.Clear();
        }

        var wake = DateTimeOffset.MaxValue;
        foreach (var authority in options.Authorities.Keys)
        {
            try
            {
                var current = await ledger.FindCrlSummaryAsync(authority, cancellationToken);
                var refreshAt = current is null ? DateTimeOffset.MinValue : current.ThisUpdate + ((current.NextUpdate - current.ThisUpdate) / 2);
                var revoked = dirty.Contains(authority);
                if (time.GetUtcNow() >= refreshAt || (revoked && !options.Crl.DeltasEnabled))
                {
                    current = await crls.GenerateAsync(authority, "crl-publisher", cancellationToken);
                    refreshAt = current.ThisUpdate + ((current.NextUpdate - current.ThisUpdate) / 2);
                }

                wake = refreshAt < wake ? refreshAt : wake;
                if (options.Crl.DeltasEnabled)
                {
                    // With deltas, a revocation makes a delta (small and quick), and deltas follow on their interval.
                    var delta = await ledger.FindCrlSummaryAsync(CrlService.DeltaName(authority), cancellationToken);
                    var deltaDue = delta is null || delta.Number < current!.Number
                        ? DateTimeOffset.MinValue
                        : delta.ThisUpdate + TimeSpan.FromMinutes(options.Crl.DeltaIntervalMinutes);
                    if (revoked || time.GetUtcNow() >= deltaDue)
                    {
                        delta = await crls.GenerateDeltaAsync(authority, "crl-publisher", cancellationToken);
                        deltaDue = delta.ThisUpdate + TimeSpan.FromMinutes(options.Crl.DeltaIntervalMinutes);
                    }

                    wake = deltaDue < wake ? deltaDue : wake;
                }
            }
            catch (Exception ex) when (ex is CaException || DatabaseFailure.IsUnavailable(ex))
            {
                logger.LogError("The CRL of {Authority} could not be generated: {Reason}", authority, ex is CaException ? ex.Message : ex.GetBaseException().Message);
                var retry = time.GetUtcNow() + RetryAfterFailure;
                wake = retry < wake ? retry : wake;
            }
        }

        return wake;
    }

    private void OnRevoked(CertificateRecord certificate)
    {
        lock (_dirty)
        {
            _dirty.Add(certificate.IssuerName);
        }

        _revoked.Release();
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _revoked.Dispose();
        base.Dispose();
    }
}
