using MiniCa.Hosting;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// <c>minica backup restore</c> on a real backup of a CA on SoftHSM2 and SQLite whose configuration names its database
/// by an absolute path and takes its profiles from elsewhere: the restored folder is a CA of its own that runs with
/// the original gone; a damaged backup and a folder that holds something are refused with nothing written.
/// </summary>
public sealed class BackupRestoreTests
{
    [Fact]
    public async Task Restore_AGoodBackup_StartsAsTheSameCaWithTheOriginalGone_ADamagedOneWritesNothing()
    {
        Prerequisites.RequireSoftHsm();
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-backup-restore");
        var ours = directory.Combine("ours");
        Directory.CreateDirectory(ours);
        var database = Path.Combine(ours, "data", "minica.db");
        var scheduled = directory.Combine("scheduled-backups");

        // Blocked key lists: one beside the configuration, one elsewhere on the machine (as /etc/… would be), listing
        // a key made here; the line is computed with OpenSSL and coreutils as Debian's openssl-blacklist documents it.
        var weakCsr = await ProcessRunner.RunAsync(openssl, [
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "weak.key",
            "-subj", "/CN=weak.example.com", "-addext", "subjectAltName=DNS:weak.example.com", "-out", "weak.csr"], workingDirectory: directory.Path);
        Assert.True(weakCsr.ExitCode == 0, weakCsr.Combined);
        var weakLine = await ProcessRunner.RunAsync("sh", ["-c", "openssl rsa -noout -modulus -in weak.key | sha1sum | cut -c21-40"], workingDirectory: directory.Path);
        Assert.True(weakLine.ExitCode == 0 && weakLine.StandardOutput.Trim().Length == 20, weakLine.Combined);
        var elsewhere = directory.Combine("elsewhere", "weak.RSA-2048");
        Directory.CreateDirectory(Path.GetDirectoryName(elsewhere)!);
        File.WriteAllText(elsewhere, weakLine.StandardOutput.Trim() + "\n");
        Directory.CreateDirectory(Path.Combine(ours, "lists"));
        File.WriteAllText(Path.Combine(ours, "lists", "local.txt"), "# ours\n00112233445566778899\n");
        Minica.WriteConfig(ours, $$"""
            // The CA's own configuration, with a comment, an absolute database path and its profiles elsewhere.
            { "DataDirectory": "data", "PoliciesDirectory": "{{Path.Combine(RepositoryPaths.Root, "policies")}}",
              "BlockedKeyLists": [ "{{elsewhere}}", "lists/local.txt" ],
              "Database": { "ConnectionString": "Data Source={{database}};Default Timeout=20" },
              "Backup": {
                "Keep": 3, // a week of them
                "Directory": "{{scheduled}}"
              } }
            """);
        var init = await Minica.RunAsync(ours, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);
        var kept = await Minica.IssueForNewKeyAsync(ours, "kept.example.com");
        Assert.True((await Minica.RunAsync(ours, ["audit", "sign", "--settled-for", "0"])).ExitCode == 0);
        var backup = directory.Combine("backup");
        Assert.True((await Minica.RunAsync(ours, ["backup", "--out", backup])).ExitCode == 0);
        var manifest = BackupManifest.Read(backup);
        Assert.Equal([new BackupKeyList(elsewhere, "blocked-key-lists/1-weak.RSA-2048"), new BackupKeyList(Path.Combine(ours, "lists", "local.txt"), "lists/local.txt")], manifest.BlockedKeyLists!);
        Assert.Equal(File.ReadAllText(elsewhere), File.ReadAllText(Path.Combine(backup, "blocked-key-lists", "1-weak.RSA-2048")));

        // Into a folder that holds something: refused before the backup is even read.
        var occupied = directory.Combine("occupied");
        Directory.CreateDirectory(occupied);
        File.WriteAllText(Path.Combine(occupied, "keep.txt"), "the operator's");
        var refused = await Minica.RunAsync(directory.Path, ["backup", "restore", backup, "--to", occupied]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"{occupied} exists and is not empty; a CA is restored into a new folder, never over another.", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(occupied).Select(Path.GetFileName));

        // A damaged backup: the check names the part, and nothing is written.
        var damaged = directory.Combine("damaged");
        DirectoryCopy.Copy(backup, damaged);
        var bytes = File.ReadAllBytes(Path.Combine(damaged, "data", "minica.db"));
        bytes[^100] ^= 0x01;
        File.WriteAllBytes(Path.Combine(damaged, "data", "minica.db"), bytes);
        var bad = await Minica.RunAsync(directory.Path, ["backup", "restore", damaged, "--to", directory.Combine("from-damaged")]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("FAILED Files: data/minica.db has changed (SHA-256 ", bad.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"The backup in {damaged} fails 1 of 5 checks (Files): nothing was restored.", bad.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("from-damaged")));

        // A good one: checked, copied private, and the configuration made to name the restored parts.
        var restored = directory.Combine("restored");
        var restore = await Minica.RunAsync(directory.Path, ["backup", "restore", backup, "--to", restored]);
        Assert.True(restore.ExitCode == 0, restore.Combined);
        Assert.Contains("ok     Keys: in the backup's embedded token, opened with its PIN: key 'root' of authority 'root' signs", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Restored into {restored} (folders 0700, files 0600; the backup is left as it is).", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("  ca.config.json: PoliciesDirectory: policies", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"  ca.config.json: Database:ConnectionString: Data Source={Path.Combine(restored, "data", "minica.db")};Default Timeout=20", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"  ca.config.json: Backup:Directory: removed (it named {scheduled}, the original CA's backups): the restored CA makes no scheduled backups until Backup:Directory names a folder of its own", restore.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("DataDirectory:", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ok     Configuration: ca.config.json loads, with the profiles code-signing, email, ocsp-signing, tls-client, tls-server and 2 blocked RSA keys from blocked-key-lists/1-weak.RSA-2048, lists/local.txt.", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("  ca.config.json: BlockedKeyLists: blocked-key-lists/1-weak.RSA-2048, lists/local.txt", restore.StandardOutput, StringComparison.Ordinal);

        // Changed in its text: the operator's comments and the other settings stay as they were written.
        var restoredConfig = File.ReadAllText(Path.Combine(restored, "ca.config.json"));
        Assert.StartsWith("// The CA's own configuration, with a comment, an absolute database path and its profiles elsewhere.\n{ \"DataDirectory\": \"data\", \"PoliciesDirectory\": \"policies\",\n  \"BlockedKeyLists\": [ \"blocked-key-lists/1-weak.RSA-2048\", \"lists/local.txt\" ],", restoredConfig, StringComparison.Ordinal);
        Assert.Contains("\"Backup\": {\n    \"Keep\": 3 // a week of them\n  } }", restoredConfig, StringComparison.Ordinal);
        var restoredOptions = MiniCaConfiguration.LoadFrom(Path.Combine(restored, "ca.config.json"), restored, []).Options;
        Assert.Null(restoredOptions.Backup.Directory);
        Assert.Equal(3, restoredOptions.Backup.Keep);
        Assert.False(File.Exists(Path.Combine(restored, BackupManifest.FileName)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(restored));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(restored, "data", "minica.db")));
        Assert.Equal(manifest.Files.Count, Directory.EnumerateFiles(restored, "*", SearchOption.AllDirectories).Count());

        // The original gone (and the list it read from elsewhere): the restored CA runs on its own parts (its profiles
        // and blocked key lists too, not the repository's or the original machine's).
        Directory.Move(ours, directory.Combine("ours-gone"));
        Directory.Move(directory.Combine("elsewhere"), directory.Combine("elsewhere-gone"));
        var alone = new Dictionary<string, string?> { ["MINICA_PoliciesDirectory"] = null };
        var requests = await Minica.RunAsync(restored, ["requests"], alone);
        Assert.True(requests.ExitCode == 0, requests.Combined);
        Assert.Contains("kept.example.com", requests.StandardOutput, StringComparison.Ordinal);
        var audit = await Minica.RunAsync(restored, ["audit", "verify"], alone);
        Assert.True(audit.ExitCode == 0, audit.Combined);
        Assert.Contains("Signed anchors: 1, each signed with the HSM's key 'audit'", audit.StandardOutput, StringComparison.Ordinal);
        File.Copy(directory.Combine("weak.csr"), Path.Combine(restored, "weak.csr"));
        var weak = await Minica.RunAsync(restored, ["issue", "--csr", "weak.csr", "--profile", "tls-server", "--out", "weak.pem"], alone);
        Assert.Equal(1, weak.ExitCode);
        Assert.Contains("the RSA key is listed in 1-weak.RSA-2048 (BlockedKeyLists)", weak.StandardError, StringComparison.Ordinal);
        var issued = await Minica.IssueForNewKeyAsync(restored, "after-restore.example.com", alone);
        var chain = await ProcessRunner.RunAsync(openssl,
            ["verify", "-x509_strict", "-CAfile", Path.Combine(restored, "data", "ca", "root.pem"), "-untrusted", Path.Combine(restored, "data", "ca", "issuing.pem"), Path.Combine(restored, issued)]);
        Assert.True(chain.ExitCode == 0, chain.Combined);
        var sameIssuer = await ProcessRunner.RunAsync(openssl, ["x509", "-noout", "-issuer", "-in", Path.Combine(directory.Combine("ours-gone"), kept)]);
        var newIssuer = await ProcessRunner.RunAsync(openssl, ["x509", "-noout", "-issuer", "-in", Path.Combine(restored, issued)]);
        Assert.Equal(sameIssuer.StandardOutput, newIssuer.StandardOutput);

        // The backup is left as it was: it still verifies.
        Assert.True((await Minica.RunAsync(directory.Path, ["backup", "verify", backup])).ExitCode == 0);
    }
}
