using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// <c>minica audit verify</c> on a real CA's SQLite database: the anchor it prints is the chain the README describes
/// (recomputed here from the raw rows, apart from the CA's code), and a change to the stored log is found.
/// </summary>
public sealed partial class CliAuditTests
{
    [Fact]
    public async Task AuditVerify_AnchorMatchesTheRowsAndCatchesTampering()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-cli-audit");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        var init = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);
        await Minica.IssueForNewKeyAsync(directory.Path, "audited.example.com");
        var database = $"Data Source={directory.Combine("data", "minica.db")};Pooling=False";

        // Every event was written just now: none is settled for the default five minutes.
        var fresh = await Minica.RunAsync(directory.Path, ["audit", "verify"]);
        Assert.True(fresh.ExitCode == 0, fresh.Combined);
        Assert.Contains("No anchor yet: no event was written 300 s or more ago.", fresh.StandardOutput, StringComparison.Ordinal);

        var taken = await Minica.RunAsync(directory.Path, ["audit", "verify", "--settled-for", "0"]);
        Assert.True(taken.ExitCode == 0, taken.Combined);
        var anchor = AnchorLine().Match(taken.StandardOutput).Groups[1].Value;
        Assert.Equal(await ChainOfTheRowsAsync(database), anchor);
        var events = long.Parse(anchor[..anchor.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(events >= 4, taken.StandardOutput);

        // Events written since leave the anchor as it was.
        await Minica.IssueForNewKeyAsync(directory.Path, "later.example.com");
        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor, "--settled-for", "0"]);
        Assert.True(holds.ExitCode == 0, holds.Combined);
        Assert.Contains($"Anchor {anchor} holds", holds.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(anchor, AnchorLine().Match(holds.StandardOutput).Groups[1].Value);

        // One character of one event's details changed: found; changed back: the anchor holds again.
        var details = await ScalarAsync(database, "SELECT Details FROM AuditEvents WHERE Id = 2");
        await ExecuteAsync(database, "UPDATE AuditEvents SET Details = Details || '.' WHERE Id = 2");
        var changed = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor]);
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains($"minica: error: The audit log does not match anchor {anchor}: up to event {events} the log now hashes to ", changed.StandardError, StringComparison.Ordinal);
        Assert.Contains("was changed, removed or inserted since the anchor was taken", changed.StandardError, StringComparison.Ordinal);
        await ExecuteAsync(database, "UPDATE AuditEvents SET Details = $details WHERE Id = 2", ("$details", details));
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor])).ExitCode);

        // The anchor's own event removed.
        await ExecuteAsync(database, $"DELETE FROM AuditEvents WHERE Id = {events}");
        var removed = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor]);
        Assert.Equal(1, removed.ExitCode);
        Assert.Contains($"event {events} is no longer in the audit log (removed)", removed.StandardError, StringComparison.Ordinal);

        var malformed = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor[..^1]]);
        Assert.Equal(64, malformed.ExitCode);
        Assert.Contains("is not ID:HASH", malformed.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebHost_LogsAnAnchorAtStart_TheCliChecksTheLogAgainstIt()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-web-audit");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        string anchor;
        await using (var host = WebHostProcess.Start(directory.Path, FreePort.Next(), new Dictionary<string, string?> { ["MINICA_Audit__AnchorSettledSeconds"] = "0" }))
        {
            await host.WaitUntilHealthyAsync();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!LoggedAnchor().IsMatch(host.Output) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            anchor = LoggedAnchor().Match(host.Output).Groups[1].Value;
            Assert.True(anchor.Length > 0, host.Output);
        }

        var holds = await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor]);
        Assert.True(holds.ExitCode == 0, holds.Combined);
        Assert.Contains($"Anchor {anchor} holds", holds.StandardOutput, StringComparison.Ordinal);
        await ExecuteAsync($"Data Source={directory.Combine("data", "minica.db")};Pooling=False", "UPDATE AuditEvents SET Actor = Actor || ' ' WHERE Id = 1");
        Assert.Equal(1, (await Minica.RunAsync(directory.Path, ["audit", "verify", "--anchor", anchor])).ExitCode);
    }

    /// <summary>
    /// The chain as the README describes it, from the raw rows: EF Core stores a time on SQLite as
    /// ((ticks / 1000) &lt;&lt; 11) | offset in minutes (its DateTimeOffsetToBinaryConverter).
    /// </summary>
    private static async Task<string> ChainOfTheRowsAsync(string database)
    {
        await using var connection = new SqliteConnection(database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, At, Actor, Action, Subject, Details FROM AuditEvents ORDER BY Id";
        await using var reader = await command.ExecuteReaderAsync();
        var value = SHA256.HashData(Encoding.ASCII.GetBytes("MiniCa audit chain v1"));
        long last = 0;
        while (await reader.ReadAsync())
        {
            var stored = reader.GetInt64(1);
            var offsetMinutes = (int)(stored & 0x7FF);
            offsetMinutes = offsetMinutes >= 1024 ? offsetMinutes - 2048 : offsetMinutes;
            var utcTicks = (stored >> 11) * 1000 - offsetMinutes * TimeSpan.TicksPerMinute;
            using var bytes = new MemoryStream();
            bytes.Write(value);
            var number = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(number, last = reader.GetInt64(0));
            bytes.Write(number);
            BinaryPrimitives.WriteInt64BigEndian(number, (utcTicks - 621_355_968_000_000_000) / 10);
            bytes.Write(number);
            for (var field = 2; field < 6; field++)
            {
                var text = Encoding.UTF8.GetBytes(reader.GetString(field));
                BinaryPrimitives.WriteUInt32BigEndian(number, (uint)text.Length);
                bytes.Write(number, 0, 4);
                bytes.Write(text);
            }

            value = SHA256.HashData(bytes.ToArray());
        }

        return $"{last}:{Convert.ToHexStringLower(value)}";
    }

    private static async Task<string> ScalarAsync(string database, string sql)
    {
        await using var connection = new SqliteConnection(database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(string database, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection(database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    [GeneratedRegex(@"^Anchor: (\d+:[0-9a-f]{64})$", RegexOptions.Multiline)]
    private static partial Regex AnchorLine();

    [GeneratedRegex(@"Audit chain anchor (\d+:[0-9a-f]{64}) ")]
    private static partial Regex LoggedAnchor();
}
