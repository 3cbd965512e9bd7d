using Microsoft.Extensions.Diagnostics.HealthChecks;
using MiniCa.Core.Errors;
using MiniCa.Hsm;

namespace MiniCa.Web.Health;

/// <summary>Healthy when the HSM member answers and its sessions are logged in.</summary>
internal sealed class HsmHealthCheck(HsmMember member) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var status = member.GetStatus();
            var data = new Dictionary<string, object>
            {
                ["member"] = status.Name,
                ["token"] = status.TokenLabel,
                ["loggedIn"] = status.LoggedIn,
                ["openSessions"] = status.OpenSessions,
                ["operations"] = status.Operations,
                ["recoveries"] = status.Recoveries,
            };
            return Task.FromResult(status.LoggedIn
                ? HealthCheckResult.Healthy($"token '{status.TokenLabel}' logged in", data)
                : HealthCheckResult.Unhealthy($"token '{status.TokenLabel}' is not logged in", data: data));
        }
        catch (CaException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(ex.Message));
        }
    }
}
