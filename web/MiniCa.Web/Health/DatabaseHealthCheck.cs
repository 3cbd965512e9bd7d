using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MiniCa.Core.Configuration;
using MiniCa.Data;

namespace MiniCa.Web.Health;

/// <summary>
/// Healthy when the issuance database answers a query. For a SQLite file the free space of its disk is reported
/// too, and below <c>Database:MinFreeSpaceMiB</c> the check is degraded: a full disk refuses every issuance and revocation
/// (nothing is lost, but nothing is recorded) while reads (OCSP, CRLs, the portal) go on, so the CA stays in service
/// and the operator is warned before the disk fills.
/// </summary>
internal sealed class DatabaseHealthCheck(IDbContextFactory<MiniCaDbContext> contexts, CaOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        int authorities;
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            authorities = await db.Authorities.CountAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            return HealthCheckResult.Unhealthy("the database does not answer");
        }

        var summary = $"{authorities} authorities recorded";
        if (FreeBytes() is not { } free)
        {
            return HealthCheckResult.Healthy(summary);
        }

        var data = new Dictionary<string, object> { ["freeBytes"] = free };
        return free < options.Database.MinFreeSpaceMiB * 1024L * 1024
            ? HealthCheckResult.Degraded($"{summary}; the disk holding the database has {free / (1024 * 1024)} MiB free: issuance and revocation fail when it is full", data: data)
            : HealthCheckResult.Healthy(summary, data);
    }

    /// <summary>The space left to the database file's folder, or <see langword="null"/> when not a SQLite file (or unknown).</summary>
    private long? FreeBytes()
    {
        if (!string.Equals(options.Database.Provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var file = new SqliteConnectionStringBuilder(options.Database.ConnectionString).DataSource;
        if (string.IsNullOrEmpty(file) || file == ":memory:" || Path.GetDirectoryName(Path.GetFullPath(file)) is not { } folder)
        {
            return null;
        }

        try
        {
            return new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
