using Microsoft.Extensions.Diagnostics.HealthChecks;
using MiniCa.Core.Configuration;
using MiniCa.Hosting;

namespace MiniCa.Web.Health;

/// <summary>
/// With scheduled backups on (<c>Backup:Directory</c>): degraded when the last attempt failed or the newest backup is
/// more than two intervals old, healthy otherwise. Never unhealthy: a CA without a fresh backup still serves, and a
/// load balancer must not take it out for that.
/// </summary>
internal sealed class BackupHealthCheck(ScheduledBackups backups, CaOptions options, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = backups.State;
        var data = new Dictionary<string, object>
        {
            ["directory"] = options.Backup.Directory!,
            ["kept"] = state.Kept,
        };
        if (state.LastSuccessAt is { } success)
        {
            data["lastSuccess"] = success;
        }

        if (state.LastFailureAt is { } failure)
        {
            data["lastFailure"] = failure;
        }

        var interval = TimeSpan.FromMinutes(options.Backup.IntervalMinutes);
        HealthCheckResult result;
        if (state.LastFailureAt is { } failed && (state.LastSuccessAt is not { } before || failed > before))
        {
            result = HealthCheckResult.Degraded($"the last scheduled backup failed at {failed.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (the reason is in the log); the next pass tries again", data: data);
        }
        else if (state.LastSuccessAt is { } newest && time.GetUtcNow() - newest > 2 * interval)
        {
            result = HealthCheckResult.Degraded($"the newest scheduled backup was made {newest.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, more than two intervals ago", data: data);
        }
        else
        {
            result = HealthCheckResult.Healthy(state.LastSuccessAt is { } at ? $"the newest scheduled backup was made {at.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : "the first scheduled backup is under way", data);
        }

        return Task.FromResult(result);
    }
}
