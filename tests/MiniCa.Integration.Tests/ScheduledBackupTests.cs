using System.Text.Json.Nodes;
using MiniCa.Hosting;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// The web host's scheduled backups (<c>Backup:Directory</c>) on a real CA: one is made when the newest is due, the
/// oldest beyond <c>Backup:Keep</c> removed, folders not its own left alone, none made again at a restart, and a
/// failing one logged and counted while the CA goes on.
/// </summary>
public sealed class ScheduledBackupTests
{
    [Fact]
    public async Task WebHost_MakesABackupWhenDue_KeepsTheNewest_LeavesOthersAlone_NotAgainAtRestart()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-scheduled-backup");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data", "Backup": { "Directory": "backups", "IntervalMinutes": 60, "Keep": 2 } }""");
        var init = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);

        // Two earlier backups, made with the CLI and dated 2020 in their manifests; a folder that is not a backup of
        // ours and one of our names without a manifest (another host's, being written): neither may be touched.
        var backups = directory.Combine("backups");
        foreach (var (name, day) in new[] { ("minica-20200101T000000Z", 1), ("minica-20200102T000000Z", 2) })
        {
            var made = await Minica.RunAsync(directory.Path, ["backup", "--out", Path.Combine(backups, name)]);
            Assert.True(made.ExitCode == 0, made.Combined);
            var manifest = Path.Combine(backups, name, BackupManifest.FileName);
            var json = JsonNode.Parse(File.ReadAllText(manifest))!;
            json["createdAt"] = new DateTimeOffset(2020, 1, day, 0, 0, 0, TimeSpan.Zero).ToString("O");
            File.WriteAllText(manifest, json.ToJsonString());
        }

        Directory.CreateDirectory(Path.Combine(backups, "keep-me"));
        File.WriteAllText(Path.Combine(backups, "keep-me", "notes.txt"), "the operator's");
        Directory.CreateDirectory(Path.Combine(backups, "minica-20991231T000000Z"));

        string made1;
        await using (var host = WebHostProcess.Start(directory.Path, FreePort.Next()))
        {
            await host.WaitUntilHealthyAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!host.Output.Contains("Scheduled backups: removed ", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.Contains("Scheduled backups: removed " + Path.Combine(backups, "minica-20200101T000000Z"), host.Output, StringComparison.Ordinal);
            var line = host.Output.Split('\n').Single(l => l.Contains("Scheduled backup /", StringComparison.Ordinal));
            made1 = line[(line.IndexOf("Scheduled backup ", StringComparison.Ordinal) + "Scheduled backup ".Length)..line.IndexOf(':', StringComparison.Ordinal)];
            Assert.StartsWith(Path.Combine(backups, "minica-"), made1, StringComparison.Ordinal);
            Assert.Contains("2 authorities, 1 certificates", line, StringComparison.Ordinal);

            var metrics = await host.Client.GetStringAsync("metrics");
            var success = MetricValue(metrics, "minica_backup_last_success_timestamp_seconds");
            Assert.InRange(success, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
            Assert.Equal(2, MetricValue(metrics, "minica_backups_kept"));
            Assert.DoesNotContain("minica_backup_last_failure_timestamp_seconds ", metrics, StringComparison.Ordinal);
            var backup = JsonNode.Parse(await host.Client.GetStringAsync("healthz"))!["checks"]!["backup"]!;
            Assert.Equal("Healthy", (string?)backup["status"]);
            Assert.Equal(2, (int)backup["data"]!["kept"]!);
        }

        Assert.Equal(
            new[] { Path.GetFileName(made1), "keep-me", "minica-20200102T000000Z", "minica-20991231T000000Z" }.Order(StringComparer.Ordinal),
            Directory.GetDirectories(backups).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("the operator's", File.ReadAllText(Path.Combine(backups, "keep-me", "notes.txt")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(made1));

        // The backup it made is good; a restart within the interval makes none.
        var verified = await Minica.RunAsync(directory.Path, ["backup", "verify", made1]);
        Assert.True(verified.ExitCode == 0, verified.Combined);
        await using (var host = WebHostProcess.Start(directory.Path, FreePort.Next()))
        {
            await host.WaitUntilHealthyAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!host.Output.Contains("Scheduled backups: the newest, ", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.Contains($"Scheduled backups: the newest, {made1}, was made ", host.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Scheduled backup /", host.Output, StringComparison.Ordinal);
        }

        Assert.Equal(4, Directory.GetDirectories(backups).Length);
    }

    [Fact]
    public async Task WebHost_BackupFolderUnusable_LogsTheErrorCountsItAndGoesOn()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-scheduled-backup-fails");
        // The folder's parent is a file: no backup can be made there.
        File.WriteAllText(directory.Combine("not-a-folder"), "a file");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data", "Backup": { "Directory": "not-a-folder/backups", "IntervalMinutes": 1 } }""");

        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());
        await host.WaitUntilHealthyAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!host.Output.Contains("Scheduled backup into ", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Contains($"Scheduled backup into {directory.Combine("not-a-folder", "backups", "minica-")}", host.Output, StringComparison.Ordinal);
        Assert.Contains(" failed: ", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
        var metrics = await host.Client.GetStringAsync("metrics");
        Assert.True(MetricValue(metrics, "minica_backup_last_failure_timestamp_seconds") >= DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        Assert.DoesNotContain("minica_backup_last_success_timestamp_seconds ", metrics, StringComparison.Ordinal);
        // Degraded, never unhealthy: the CA still serves.
        var health = await host.Client.GetAsync("healthz");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        var backup = JsonNode.Parse(await health.Content.ReadAsStringAsync())!["checks"]!["backup"]!;
        Assert.Equal("Degraded", (string?)backup["status"]);
        Assert.StartsWith("the last scheduled backup failed at ", (string?)backup["description"], StringComparison.Ordinal);
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (!host.Output.Contains("Health: backup is degraded: the last scheduled backup failed", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Contains("Health: backup is degraded: the last scheduled backup failed", host.Output, StringComparison.Ordinal);
    }

    /// <summary>The value of a gauge without labels in Prometheus's text format.</summary>
    private static long MetricValue(string metrics, string name)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal));
        Assert.True(line is not null, $"{name} is not in /metrics:\n{metrics}");
        return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
