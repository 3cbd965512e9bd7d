using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MiniCa.Data;

namespace MiniCa.Web.Health;

/// <summary>Healthy when the issuance database answers a query.</summary>
internal sealed class DatabaseHealthCheck(IDbContextFactory<MiniCaDbContext> contexts) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var authorities = await db.Authorities.CountAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{authorities} authorities recorded");
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            return HealthCheckResult.Unhealthy("the database does not answer");
        }
    }
}
