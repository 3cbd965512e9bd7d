using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using MiniCa.Data.Queries;
using MiniCa.Hosting;
using MiniCa.TestSupport;
using MiniCa.Web.Health;

namespace MiniCa.Web.Tests;

/// <summary>
/// The <c>backup</c> health check's clock: healthy while the newest scheduled backup is recent, degraded once it is
/// more than two intervals old (the passes stopped making them). A failed attempt is tested on a running host in
/// <c>ScheduledBackupTests</c>. The backup here is a folder with a manifest only: the pass finds it complete and not
/// due, and makes none.
/// </summary>
public sealed class BackupHealthCheckTests
{
    [Fact]
    public async Task NewestBackupTwoIntervalsOld_IsDegraded_NeverUnhealthy()
    {
        using var directory = new TempDirectory("minica-backup-health");
        var folder = directory.Combine("backups");
        var made = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var backup = Path.Combine(folder, ScheduledBackups.Prefix + "20261201T000000Z");
        Directory.CreateDirectory(Path.Combine(backup, "data"));
        File.WriteAllText(Path.Combine(backup, "data", "minica.db"), "not read by the pass");
        new BackupManifest(BackupManifest.CurrentFormat, made, null, "data", "policies", true,
            new BackupDatabase("Sqlite", "data/minica.db", 2, 0), Array.Empty<RecordedAuthority>(), BackupManifest.Describe(backup)).Write(backup);
        var loaded = MiniCaConfiguration.LoadFrom(null, directory.Path, ["--Backup:Directory=" + folder, "--Backup:IntervalMinutes=60"]);
        var clock = new Clock { Now = made.AddMinutes(30) };
        var backups = new ScheduledBackups(loaded, clock, NullLogger<ScheduledBackups>.Instance);
        var check = new BackupHealthCheck(backups, loaded.Options, clock);

        var first = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Healthy, first.Status);
        Assert.Equal("the first scheduled backup is under way", first.Description);

        Assert.Null(await backups.BackUpIfDueAsync());
        var recent = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Healthy, recent.Status);
        Assert.Equal("the newest scheduled backup was made 2026-12-01 00:00:00 UTC", recent.Description);
        Assert.Equal(1, recent.Data["kept"]);

        // Two intervals on, with no pass since: still healthy at the edge, degraded past it.
        clock.Now = made.AddMinutes(120);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        clock.Now = made.AddMinutes(121);
        var stale = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Degraded, stale.Status);
        Assert.Equal("the newest scheduled backup was made 2026-12-01 00:00:00 UTC, more than two intervals ago", stale.Description);
        Assert.Equal(folder, stale.Data["directory"]);
        Assert.Equal(made, stale.Data["lastSuccess"]);
        Assert.False(stale.Data.ContainsKey("lastFailure"));
    }

    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
