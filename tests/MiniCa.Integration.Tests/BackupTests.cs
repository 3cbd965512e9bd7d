using Microsoft.Data.Sqlite;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary><c>minica backup</c> copies a running CA; the copy, moved elsewhere, starts as the same CA.</summary>
public sealed class BackupTests
{
    [Fact]
    public async Task Backup_WhileTheCaServes_IsAConsistentCopyThatStartsAsTheSameCaElsewhere()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-backup");
        var ours = directory.Combine("ours");
        Directory.CreateDirectory(ours);
        Minica.WriteConfig(ours, """{ "DataDirectory": "data" }""");
        var backup = directory.Combine("backup");
        string serial;
        await using (var host = WebHostProcess.Start(ours, FreePort.Next()))
        {
            await host.WaitUntilHealthyAsync();
            var csr = await ProcessRunner.RunAsync(openssl, [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
                "-subj", "/CN=backup.example.internal", "-addext", "subjectAltName=DNS:backup.example.internal", "-out", "b.csr"], workingDirectory: ours);
            Assert.True(csr.ExitCode == 0, csr.Combined);
            var issue = await Minica.RunAsync(ours, ["issue", "--csr", "b.csr", "--profile", "tls-server", "--out", "b.pem"]);
            Assert.True(issue.ExitCode == 0, issue.Combined);
            serial = (await ProcessRunner.RunAsync(openssl, ["x509", "-in", "b.pem", "-noout", "-serial"], workingDirectory: ours)).StandardOutput.Trim()["serial=".Length..].ToLowerInvariant();

            // Taken while the server runs (its write-ahead log open). The profiles are given inside the configuration's
            // folder here, so the copy starts as it is (the tests' hosts otherwise read the repository's).
            DirectoryCopy.Copy(Path.Combine(RepositoryPaths.Root, "policies"), Path.Combine(ours, "policies"));
            var made = await Minica.RunAsync(ours, ["backup", "--out", backup], new Dictionary<string, string?> { ["MINICA_PoliciesDirectory"] = Path.Combine(ours, "policies") });
            Assert.True(made.ExitCode == 0, made.Combined);
            // The certificates: this one and the OCSP responder's, which the server issued at start.
            Assert.Contains("(2 authorities, 2 certificates; integrity ok), the embedded token store", made.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("wherever the folder is put", made.StandardOutput, StringComparison.Ordinal);

            var again = await Minica.RunAsync(ours, ["backup", "--out", backup]);
            Assert.Equal(1, again.ExitCode);
            Assert.Contains($"{backup} exists and is not empty; a backup goes into a new folder.", again.StandardError, StringComparison.Ordinal);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(backup));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(backup, "data", "secrets", "hsm-user-pin")));
        Assert.False(File.Exists(Path.Combine(backup, "data", "minica.db-wal")));
        Assert.True(File.Exists(Path.Combine(backup, "policies", "tls-server.json")));
        Assert.True(File.Exists(Path.Combine(backup, "ca.config.json")));

        // The original is gone; the copy, moved, is the CA: same root, the certificate issued before the backup.
        var root = File.ReadAllBytes(Path.Combine(ours, "data", "ca", "root.crt"));
        Directory.Delete(ours, recursive: true);
        var restored = directory.Combine("restored");
        Directory.Move(backup, restored);
        await using (var host = WebHostProcess.Start(restored, FreePort.Next()))
        {
            await host.WaitUntilHealthyAsync();
            Assert.Equal(root, await host.Client.GetByteArrayAsync("ca/root.crt"));
        }

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(restored, "data", "minica.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Status\" FROM \"Certificates\" WHERE \"SerialHex\" = $serial";
        command.Parameters.AddWithValue("$serial", serial.TrimStart('0'));
        Assert.Equal("Issued", await command.ExecuteScalarAsync());
    }
}
