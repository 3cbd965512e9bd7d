using Microsoft.Extensions.Diagnostics.HealthChecks;
using MiniCa.Hsm;

namespace MiniCa.Web.Health;

/// <summary>
/// Healthy when every HSM member is up, degraded when some are (signing goes on), unhealthy when none is.
/// Each member's state and counters are in the report's data.
/// </summary>
internal sealed class HsmHealthCheck(HsmCluster cluster) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var members = cluster.GetStatus();
        var data = new Dictionary<string, object>();
        foreach (var member in members)
        {
            data[member.Name] = new Dictionary<string, object?>
            {
                ["state"] = member.State.ToString().ToLowerInvariant(),
                ["since"] = member.StateSince,
                ["token"] = member.TokenLabel,
                ["operations"] = member.Operations,
                ["failures"] = member.Failures,
                ["failovers"] = member.Failovers,
                ["readmissions"] = member.Readmissions,
                ["lastError"] = member.LastError,
            };
        }

        var up = members.Count(m => m.State == HsmMemberState.Up);
        var summary = $"{up} of {members.Count} HSM member(s) up";
        var result = up == members.Count ? HealthCheckResult.Healthy(summary, data)
            : up > 0 ? HealthCheckResult.Degraded(summary, data: data)
            : HealthCheckResult.Unhealthy(summary, data: data);
        return Task.FromResult(result);
    }
}
