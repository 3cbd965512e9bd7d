using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using MiniCa.Hosting;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// <c>minica backup verify</c> on real backups of a CA on SoftHSM2 and SQLite: a good one passes every part and is
/// left byte for byte as it was; each kind of damage is found by the part it breaks, with the manifest rewritten to
/// match where the damage is meant to get past the file check.
/// </summary>
public sealed partial class BackupVerifyTests
{
    [Fact]
    public async Task Verify_AGoodBackupPassesUnchanged_EachDamageIsFoundByItsPart()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-backup-verify");
        var ours = directory.Combine("ours");
        Directory.CreateDirectory(ours);
        Minica.WriteConfig(ours, """{ "DataDirectory": "data" }""");
        var init = await Minica.RunAsync(ours, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);
        await Minica.IssueForNewKeyAsync(ours, "kept.example.com");
        var sign = await Minica.RunAsync(ours, ["audit", "sign", "--settled-for", "0"]);
        Assert.True(sign.ExitCode == 0, sign.Combined);
        var anchor = AnchorLine().Match((await Minica.RunAsync(ours, ["audit", "verify", "--settled-for", "0"])).StandardOutput).Groups[1].Value;
        Assert.NotEmpty(anchor);

        var backup = directory.Combine("backup");
        var made = await Minica.RunAsync(ours, ["backup", "--out", backup]);
        Assert.True(made.ExitCode == 0, made.Combined);
        Assert.Contains($"Manifest: minica-backup.json, the size and SHA-256 of its ", made.StandardOutput, StringComparison.Ordinal);
        var manifest = BackupManifest.Read(backup);
        Assert.Equal(["root", "issuing"], manifest.Authorities.Select(a => a.Name));
        Assert.Equal("data/minica.db", manifest.Database.File);
        Assert.True(manifest.EmbeddedHsm);
        Assert.Contains(manifest.Files, f => f.Path.StartsWith("data/hsm/tokens/", StringComparison.Ordinal));
        Assert.Contains(manifest.Files, f => f.Path == "policies/tls-server.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(backup, BackupManifest.FileName)));

        // A good backup: every part passes, the anchor taken on the CA holds on it, and it is left as it was.
        var before = Snapshot(backup);
        var good = await Minica.RunAsync(ours, ["backup", "verify", backup, "--anchor", anchor]);
        Assert.True(good.ExitCode == 0, good.Combined);
        Assert.Contains($"ok     Files: {manifest.Files.Count} files (", good.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ok     Configuration: ca.config.json loads, with the profiles ", good.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ok     Database: data/minica.db passes SQLite's integrity check and records 2 authorities and 1 certificates, as the manifest says; its schema is this version's.", good.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ok     Keys: in the backup's embedded token, opened with its PIN: key 'root' of authority 'root' signs, verified with its certificate (", good.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("key 'issuing' of authority 'issuing' signs, verified with its certificate", good.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"ok     Audit log: \d+ events chained; 1 signed anchor\(s\) hold \(audit key SHA-256 [0-9a-f]{64}; the newest covers it up to event \d+\); the 1 anchor\(s\) given hold; its head is \d+:[0-9a-f]{64}\.", good.StandardOutput);
        Assert.Contains("The backup is good: a CA started on it is this CA.", good.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(backup));

        // An anchor the backup's log does not hash to.
        var wrongAnchor = anchor[..^1] + (anchor[^1] == '0' ? '1' : '0');
        var wrong = await Minica.RunAsync(ours, ["backup", "verify", backup, "--anchor", wrongAnchor]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains($"FAILED Audit log: it does not match anchor {wrongAnchor}: ", wrong.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"minica: error: The backup in {backup} fails 1 of 5 checks (Audit log): it would not bring this CA back as it is.", wrong.StandardError, StringComparison.Ordinal);

        // A byte of the database changed, a file added, a profile removed: the file check names each.
        var damaged = Copy(backup, directory.Combine("damaged"));
        var db = Path.Combine(damaged, "data", "minica.db");
        var bytes = File.ReadAllBytes(db);
        bytes[^100] ^= 0x01;
        File.WriteAllBytes(db, bytes);
        File.WriteAllText(Path.Combine(damaged, "data", "stray.txt"), "not from the CA");
        File.Delete(Path.Combine(damaged, "policies", "email.json"));
        var files = await Minica.RunAsync(ours, ["backup", "verify", damaged]);
        Assert.Equal(1, files.ExitCode);
        Assert.Contains("FAILED Files: data/minica.db has changed (SHA-256 ", files.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("policies/email.json is missing", files.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("data/stray.txt is not in the manifest", files.StandardOutput, StringComparison.Ordinal);

        // Another CA's token store put in its place, the manifest rewritten to match: the keys are not this CA's.
        var other = directory.Combine("other");
        Directory.CreateDirectory(other);
        Minica.WriteConfig(other, """{ "DataDirectory": "data" }""");
        Assert.Equal(0, (await Minica.RunAsync(other, ["init"])).ExitCode);
        var swapped = Copy(backup, directory.Combine("swapped"));
        foreach (var part in new[] { "hsm", "secrets" })
        {
            Directory.Delete(Path.Combine(swapped, "data", part), recursive: true);
            DirectoryCopy.Copy(Path.Combine(other, "data", part), Path.Combine(swapped, "data", part));
        }

        Rehash(swapped);
        var keys = await Minica.RunAsync(ours, ["backup", "verify", swapped]);
        Assert.Equal(1, keys.ExitCode);
        Assert.Contains("ok     Files: ", keys.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("FAILED Keys: in the backup's embedded token, opened with its PIN: authority 'root' (serial ", keys.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("): the key 'root' on embedded is another key than its certificate's; authority 'issuing' (serial ", keys.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("): the key 'issuing' on embedded is another key than its certificate's.", keys.StandardOutput, StringComparison.Ordinal);
        // That CA's token has no audit key: the signed anchor cannot be checked.
        Assert.Contains("FAILED Audit log: it does not match the signed anchor in event ", keys.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("fails 2 of 5 checks (Keys, Audit log)", keys.StandardError, StringComparison.Ordinal);

        // An audit event changed in the copy, the manifest rewritten to match: the signed anchor over it fails.
        var rewritten = Copy(backup, directory.Combine("rewritten"));
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(rewritten, "data", "minica.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE AuditEvents SET Details = Details || '.' WHERE Id = 2";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        Rehash(rewritten);
        var audit = await Minica.RunAsync(ours, ["backup", "verify", rewritten]);
        Assert.Equal(1, audit.ExitCode);
        Assert.Contains("ok     Keys: ", audit.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"FAILED Audit log: it does not match the signed anchor in event \d+: .+ \(1 of 1 signed anchors fail\)\.", audit.StandardOutput);

        // No manifest: not a complete backup; no folder at all.
        File.Delete(Path.Combine(rewritten, BackupManifest.FileName));
        var none = await Minica.RunAsync(ours, ["backup", "verify", rewritten]);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains($"minica: error: {rewritten} holds no minica-backup.json: it is not a complete backup", none.StandardError, StringComparison.Ordinal);
        var missing = await Minica.RunAsync(ours, ["backup", "verify", directory.Combine("nowhere")]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains($"minica: error: {directory.Combine("nowhere")} does not exist.", missing.StandardError, StringComparison.Ordinal);
        Assert.Equal(64, (await Minica.RunAsync(ours, ["backup", "verify"])).ExitCode);
        var restore = await Minica.RunAsync(ours, ["backup", "verify", backup, "--restore-into", "scratch"]);
        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("--restore-into is for a backup of a CA on PostgreSQL; the backup in ", restore.StandardError, StringComparison.Ordinal);
    }

    /// <summary>Every file's path and bytes' SHA-256, with its mode: what a check must leave as it was.</summary>
    private static List<string> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(file => $"{BackupManifest.RelativePath(folder, file)} {BackupManifest.DescribeFile(folder, BackupManifest.RelativePath(folder, file)).Sha256} {File.GetUnixFileMode(file)}")
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string Copy(string from, string to)
    {
        DirectoryCopy.Copy(from, to);
        return to;
    }

    /// <summary>The manifest made to list the folder as it is now: damage meant to get past the file check.</summary>
    private static void Rehash(string folder)
    {
        var manifest = BackupManifest.Read(folder) with { Files = BackupManifest.Describe(folder) };
        File.Delete(Path.Combine(folder, BackupManifest.FileName));
        manifest.Write(folder);
    }

    [GeneratedRegex(@"^Anchor: (\d+:[0-9a-f]{64})$", RegexOptions.Multiline)]
    private static partial Regex AnchorLine();
}
