using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MiniCa.Web.Health;

/// <summary>
/// Logs a check of <c>/healthz</c> when its status changes, once: a monitor that polls every few seconds during an
/// outage or on a filling disk would otherwise write ASP.NET's line for each poll (its health check log is off in
/// appsettings.json). A check first seen healthy is not logged; one that recovers is.
/// </summary>
internal sealed class HealthTransitions(ILogger<HealthTransitions> logger)
{
    // Under its own lock: two polls at once must not both log the same change.
    private readonly Dictionary<string, HealthStatus> _last = new(StringComparer.Ordinal);

    public void Observe(HealthReport report)
    {
        foreach (var (name, entry) in report.Entries)
        {
            lock (_last)
            {
                var previous = _last.TryGetValue(name, out var seen) ? seen : HealthStatus.Healthy;
                _last[name] = entry.Status;
                if (entry.Status == previous)
                {
                    continue;
                }
            }

            var description = entry.Description ?? entry.Exception?.Message ?? string.Empty;
            switch (entry.Status)
            {
                case HealthStatus.Unhealthy:
                    logger.LogError("Health: {Check} is unhealthy: {Description}", name, description);
                    break;
                case HealthStatus.Degraded:
                    logger.LogWarning("Health: {Check} is degraded: {Description}", name, description);
                    break;
                default:
                    logger.LogInformation("Health: {Check} is healthy again: {Description}", name, description);
                    break;
            }
        }
    }
}
