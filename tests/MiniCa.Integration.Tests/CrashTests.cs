using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// The CA killed (SIGKILL) while it issues under load, as by the OOM killer or a lost container: every certificate
/// it handed out is in the database as issued, the database is sound, and the CA starts and issues again. What a
/// kill checks is the order of things (a certificate goes out only after its commit) and SQLite's recovery of its
/// write-ahead log; the page cache survives a kill, so the flush to the disk is tested apart (<see cref="PowerCutTests"/>). A kill
/// lands at a moment the scheduler picks: a group commit changed to complete its writes 5 ms before committing them
/// failed this test in 4 of 4 runs with the driver on one core (in 2 of 3 with it on both).
/// </summary>
public sealed class CrashTests
{
    [Fact]
    public async Task KilledUnderLoad_EveryCertificateHandedOutIsRecorded_TheDatabaseIsSound_TheCaIssuesAgain()
    {
        using var directory = new TempDirectory("minica-crash");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        var database = directory.Combine("data", "minica.db");
        await KillRepeatedlyUnderLoadAsync(directory.Path, async () =>
        {
            Assert.True(File.Exists(database + "-wal"), "the kill left no write-ahead log: it did not kill a running writer");
            return await ReadRowsAsync(database);
        });

        // The CLI alone settles the issuances the kills cut short, once they are old enough to belong to no running
        // issuance (10 minutes: their rows are moved back 11). `minica requests` fails the requests of the first half
        // of them and says so; `minica issue` the rest, on standard error, its standard output still the chain alone.
        var cutShort = await CountAsync(database, "SELECT count(*) FROM Certificates WHERE Status = 'Signing'");
        Assert.True(cutShort >= 2, $"the kills left {cutShort} issuance(s) cut short");
        await MoveBackAsync(database, $"Id IN (SELECT Id FROM Certificates WHERE Status = 'Signing' ORDER BY Id LIMIT {cutShort / 2})");
        var requests = await Minica.RunAsync(directory.Path, ["requests"]);
        Assert.True(requests.ExitCode == 0, requests.Combined);
        Assert.Contains($"{cutShort / 2} issuance(s) cut short by a stop or a crash", requests.StandardError, StringComparison.Ordinal);
        Assert.Equal(cutShort - (cutShort / 2), await CountAsync(database, Unsettled));

        await MoveBackAsync(database, "Id IN (SELECT c.Id FROM Certificates c JOIN Requests r ON r.Id = c.RequestId WHERE r.Status <> 'Failed')");
        var csr = await ProcessRunner.RunAsync(Prerequisites.RequireProgram("openssl", "openssl"), [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "settle.key",
            "-subj", "/CN=settle.example.internal", "-addext", "subjectAltName=DNS:settle.example.internal", "-out", "settle.csr"], workingDirectory: directory.Path);
        Assert.True(csr.ExitCode == 0, csr.Combined);
        var issue = await Minica.RunAsync(directory.Path, ["issue", "--csr", "settle.csr", "--profile", "tls-server"]);
        Assert.True(issue.ExitCode == 0, issue.Combined);
        Assert.Contains($"{cutShort - (cutShort / 2)} issuance(s) cut short by a stop or a crash", issue.StandardError, StringComparison.Ordinal);
        Assert.Equal(0L, await CountAsync(database, Unsettled));
        Assert.Equal(2, CertificatesAlone(issue.StandardOutput));
    }

    /// <summary>How many PEM certificates <paramref name="text"/> holds; it fails on any other text than white space between them.</summary>
    private static int CertificatesAlone(string text)
    {
        var count = 0;
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var block))
        {
            Assert.True(rest[..block.Location.Start].IsWhiteSpace(), $"standard output holds more than the chain: {text}");
            Assert.Equal("CERTIFICATE", rest[block.Label].ToString());
            rest = rest[block.Location.End..];
            count++;
        }

        Assert.True(rest.IsWhiteSpace(), $"standard output holds more than the chain: {text}");
        return count;
    }

    private const string Unsettled = "SELECT count(*) FROM Certificates c JOIN Requests r ON r.Id = c.RequestId WHERE c.Status = 'Signing' AND r.Status <> 'Failed'";

    private static async Task<long> CountAsync(string database, string sql)
    {
        await using var db = new SqliteConnection($"Data Source={database};Pooling=False");
        await db.OpenAsync();
        await using var count = db.CreateCommand();
        count.CommandText = sql;
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>Moves the rows still being signed that <paramref name="where"/> selects 11 minutes back.</summary>
    private static async Task MoveBackAsync(string database, string where)
    {
        await using var db = new SqliteConnection($"Data Source={database};Pooling=False");
        await db.OpenAsync();
        var instants = new DateTimeOffsetToBinaryConverter();
        var now = DateTimeOffset.UtcNow;
        await using var back = db.CreateCommand();
        back.CommandText = $"UPDATE Certificates SET CreatedAt = CreatedAt - $delta WHERE Status = 'Signing' AND {where}";
        back.Parameters.AddWithValue("$delta", (long)instants.ConvertToProvider(now)! - (long)instants.ConvertToProvider(now.AddMinutes(-11))!);
        Assert.True(await back.ExecuteNonQueryAsync() > 0, $"no row still being signed where {where}");
    }

    /// <summary>A certificate's row as the database holds it.</summary>
    internal sealed record CertificateRow(string Status, byte[]? Der, byte[] Tbs);

    /// <summary>
    /// Opens the SQLite database at <paramref name="database"/> (this connection, the first after a crash, recovers
    /// its write-ahead log), checks its integrity and reads every certificate's row by serial.
    /// </summary>
    internal static async Task<Dictionary<string, CertificateRow>> ReadRowsAsync(string database)
    {
        var rows = new Dictionary<string, CertificateRow>(StringComparer.Ordinal);
        await using var db = new SqliteConnection($"Data Source={database};Pooling=False");
        await db.OpenAsync();
        await using var integrity = db.CreateCommand();
        integrity.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", await integrity.ExecuteScalarAsync());
        await using var query = db.CreateCommand();
        query.CommandText = "SELECT SerialHex, Status, Der, TbsDer FROM Certificates";
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = new CertificateRow(reader.GetString(1), reader.IsDBNull(2) ? null : (byte[])reader[2], (byte[])reader[3]);
        }

        return rows;
    }

    /// <summary>
    /// Asserts that every certificate of <paramref name="handedOut"/> (serial, SHA-256 of its DER) has its row in
    /// <paramref name="rows"/>, issued with the same bytes, and that every other row is still being signed, with the
    /// TBS the HSM was given: each of those may have been signed, so OCSP answers for it and it can be revoked.
    /// </summary>
    internal static void AssertRecorded(IEnumerable<KeyValuePair<string, string>> handedOut, Dictionary<string, CertificateRow> rows, string when)
    {
        Assert.All(handedOut, certificate =>
        {
            Assert.True(rows.TryGetValue(certificate.Key, out var row), $"certificate {certificate.Key} was handed out but has no row ({when})");
            Assert.True(row.Status == "Issued", $"certificate {certificate.Key} was handed out but its row is {row.Status} ({when})");
            Assert.Equal(certificate.Value, Convert.ToHexStringLower(SHA256.HashData(row.Der!)));
        });
        Assert.All(rows.Values.Where(r => r.Status != "Issued"), row =>
        {
            Assert.Equal("Signing", row.Status);
            Assert.Null(row.Der);
            Assert.NotEmpty(row.Tbs);
        });
    }

    /// <summary>
    /// Kills the CA of the ca.config.json in <paramref name="directory"/> five times under load and checks after each
    /// kill, through <paramref name="readRows"/>, that every certificate it handed out is recorded; then the CLI issues.
    /// </summary>
    internal static async Task KillRepeatedlyUnderLoadAsync(string directory, Func<Task<Dictionary<string, CertificateRow>>> readRows)
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        Prerequisites.RequireSoftHsm();

        // Killed five times, each time once it has handed out 400 more certificates, and started again on the same
        // folder: 64 requests in flight, so that each kill lands among group commits of many writes each.
        var handedOut = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        for (var kill = 1; kill <= 5; kill++)
        {
            await RunUntilKilledAsync(directory, handedOut, 400 * kill);
            AssertRecorded(handedOut, await readRows(), $"kill {kill}");
        }

        // The CA starts again on the same folder and issues.
        var certificate = await Minica.IssueForNewKeyAsync(directory, "after.example.internal");
        var verify = await ProcessRunner.RunAsync(openssl, [
            "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "data/ca/root.pem", "-untrusted", "data/ca/issuing.pem", certificate], workingDirectory: directory);
        Assert.True(verify.ExitCode == 0, verify.Combined);
    }

    /// <summary>
    /// Runs the load driver in <paramref name="directory"/> until <paramref name="handedOut"/> holds
    /// <paramref name="until"/> certificates, then kills it (SIGKILL) and reads its output to the end.
    /// <paramref name="environment"/> adds to the driver's environment.
    /// </summary>
    internal static async Task RunUntilKilledAsync(string directory, ConcurrentDictionary<string, string> handedOut, int until, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var other = new StringBuilder();
        // On one core (taskset execs dotnet, so the process killed is the CA's): the test assemblies run side by side,
        // and in one clean run with the driver on both cores a browser test's sign-in timed out after a minute.
        var start = new ProcessStartInfo(Prerequisites.RequireProgram("taskset", "util-linux")) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", "0", "dotnet", RepositoryPaths.LoadDriverAssembly, "64" })
        {
            start.ArgumentList.Add(argument);
        }

        ProcessRunner.ApplyEnvironment(start, new Dictionary<string, string?>
        {
            ["SOFTHSM2_CONF"] = null,
            ["MINICA_CONFIG"] = null,
            ["MINICA_PoliciesDirectory"] = Path.Combine(RepositoryPaths.Root, "policies"),
        });
        ProcessRunner.ApplyEnvironment(start, environment);
        using var driver = Process.Start(start)!;
        driver.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Split(' ') is ["issued", var serial, var sha256])
            {
                handedOut[serial] = sha256;
                if (handedOut.Count == until)
                {
                    // At once, right after a certificate went out: the moment a write completed too early would be lost.
                    driver.Kill();
                }
            }
            else if (e.Data is not null)
            {
                lock (other)
                {
                    other.AppendLine(e.Data);
                }
            }
        };
        driver.ErrorDataReceived += (_, e) =>
        {
            lock (other)
            {
                other.AppendLine(e.Data);
            }
        };
        driver.BeginOutputReadLine();
        driver.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (handedOut.Count < until && !driver.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.True(handedOut.Count >= until, $"only {handedOut.Count} certificates of {until} in 3 minutes: {other}");
        driver.Kill(entireProcessTree: true);
        // To the output's end, so that every line the driver wrote before the kill is read.
        driver.WaitForExit();
        Assert.True(driver.ExitCode == 137, $"the load driver ended with {driver.ExitCode}, not by the kill: {other}");
    }
}
