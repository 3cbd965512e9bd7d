using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using MiniCa.Data;
using MiniCa.TestSupport;

namespace MiniCa.Unit.Tests.Data;

/// <summary>
/// The committed migrations, run as the CA runs them at start (<c>MigrateAsync</c>) on real SQLite files: they
/// build exactly the schema of the model in code, and an upgrade keeps what the database held.
/// </summary>
public sealed class MigrationTests : IDisposable
{
    private readonly TempDirectory _directory = new("minica-migrations");

    [Fact]
    public void Model_HasNoChangesWithoutAMigration()
    {
        using var db = Open("pending.db");

        Assert.False(db.Database.HasPendingModelChanges(), "the model has changed since the last migration: add one (dotnet ef migrations add NAME in src/MiniCa.Data)");
    }

    [Fact]
    public async Task Migrations_BuildTheSchemaOfTheModel()
    {
        await using (var migrated = Open("migrated.db"))
        {
            await migrated.Database.MigrateAsync();
        }

        await using (var created = Open("created.db"))
        {
            await created.Database.EnsureCreatedAsync();
        }

        var expected = Describe("created.db");
        var actual = Describe("migrated.db");

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task CrlBlobs_MovesEachPublishedCrlOutOfItsStateRow()
    {
        await using var db = Open("upgrade.db");
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var crlBlobs = migrations.Single(m => m.EndsWith("_CrlBlobs", StringComparison.Ordinal));
        // The database as the version before CrlBlobs left it, with a published CRL and one never published.
        await migrator.MigrateAsync(migrations[migrations.IndexOf(crlBlobs) - 1]);
        var columns = Columns("upgrade.db", "CrlStates");
        Assert.Contains("Der", columns);
        var der = new byte[] { 0x30, 0x03, 0x02, 0x01, 0x07 };
        Execute("upgrade.db", Insert("CrlStates", columns, new() { ["Authority"] = "'issuing'", ["Der"] = $"X'{Convert.ToHexString(der)}'" }));
        Execute("upgrade.db", Insert("CrlStates", columns, new() { ["Authority"] = "'root'", ["Der"] = "NULL" }));

        await db.Database.MigrateAsync();

        Assert.DoesNotContain("Der", Columns("upgrade.db", "CrlStates"));
        Assert.Equal(2L, Scalar("upgrade.db", "SELECT COUNT(*) FROM \"CrlStates\""));
        Assert.Equal(1L, Scalar("upgrade.db", "SELECT COUNT(*) FROM \"CrlBlobs\""));
        Assert.Equal(der, (byte[])Scalar("upgrade.db", "SELECT \"Der\" FROM \"CrlBlobs\" WHERE \"Authority\" = 'issuing'")!);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task RevocationChangedAt_OfEarlierRevocationsIsTheirRevocationTime()
    {
        await using var db = Open("revocations.db");
        var migrator = db.GetService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var changedAt = migrations.Single(m => m.EndsWith("_RevocationChangedAt", StringComparison.Ordinal));
        await migrator.MigrateAsync(migrations[migrations.IndexOf(changedAt) - 1]);
        var columns = Columns("revocations.db", "Certificates");
        Assert.DoesNotContain("RevocationChangedAt", columns);
        var requestColumns = Columns("revocations.db", "Requests");
        Execute("revocations.db", Insert("Requests", requestColumns, new() { ["Id"] = "1" }));
        Execute("revocations.db", Insert("Requests", requestColumns, new() { ["Id"] = "2" }));
        Execute("revocations.db", Insert("Certificates", columns, new() { ["Id"] = "1", ["RequestId"] = "1", ["SerialHex"] = "'0a'", ["Status"] = "'Revoked'", ["RevokedAt"] = "638000000000000000", ["RevocationReason"] = "'superseded'" }));
        Execute("revocations.db", Insert("Certificates", columns, new() { ["Id"] = "2", ["RequestId"] = "2", ["SerialHex"] = "'0b'", ["Status"] = "'Issued'", ["RevokedAt"] = "NULL", ["RevocationReason"] = "NULL" }));

        await db.Database.MigrateAsync();

        Assert.Equal(638000000000000000L, Scalar("revocations.db", "SELECT \"RevocationChangedAt\" FROM \"Certificates\" WHERE \"SerialHex\" = '0a'"));
        Assert.Equal(DBNull.Value, Scalar("revocations.db", "SELECT \"RevocationChangedAt\" FROM \"Certificates\" WHERE \"SerialHex\" = '0b'"));
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    public void Dispose() => _directory.Dispose();

    private MiniCaDbContext Open(string file) =>
        new(new DbContextOptionsBuilder<MiniCaDbContext>().UseSqlite($"Data Source={_directory.Combine(file)};Pooling=False").Options);

    private SqliteConnection Connect(string file)
    {
        var connection = new SqliteConnection($"Data Source={_directory.Combine(file)};Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>An INSERT that fills every column of an old row: the SQL literals given, a zero in every other.</summary>
    private static string Insert(string table, IReadOnlyList<string> columns, Dictionary<string, string> values) =>
        $"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", columns.Select(c => values.GetValueOrDefault(c, "0")))})";

    private void Execute(string file, string sql)
    {
        using var connection = Connect(file);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private object? Scalar(string file, string sql)
    {
        using var connection = Connect(file);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private List<string> Columns(string file, string table)
    {
        using var connection = Connect(file);
        return Read(connection, $"SELECT name FROM pragma_table_info('{table}')").Select(r => r[0]).ToList();
    }

    /// <summary>Every table's columns, indexes and foreign keys, in an order that does not depend on how they were made.</summary>
    private List<string> Describe(string file)
    {
        using var connection = Connect(file);
        var lines = new List<string>();
        foreach (var table in Read(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('__EFMigrationsHistory', '__EFMigrationsLock') ORDER BY name").Select(r => r[0]))
        {
            var parts = Read(connection, $"SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_info('{table}')")
                .Select(r => $"  column {r[0]} {r[1]} notnull={r[2]} pk={r[3]} default={r[4]}").ToList();
            foreach (var index in Read(connection, $"SELECT name, \"unique\", partial FROM pragma_index_list('{table}') WHERE origin <> 'pk'"))
            {
                var keyColumns = Read(connection, $"SELECT name FROM pragma_index_info('{index[0]}') ORDER BY seqno").Select(r => r[0]);
                var definition = Read(connection, $"SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{index[0]}'").Single()[0];
                var where = definition.Contains(" WHERE ", StringComparison.Ordinal) ? definition[definition.IndexOf(" WHERE ", StringComparison.Ordinal)..] : string.Empty;
                parts.Add($"  index {index[0]} unique={index[1]} ({string.Join(",", keyColumns)}){where}");
            }

            parts.AddRange(Read(connection, $"SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{table}')")
                .Select(r => $"  fk {r[1]} -> {r[0]}.{r[2]} on delete {r[3]}"));
            lines.Add("table " + table);
            lines.AddRange(parts.Order(StringComparer.Ordinal));
        }

        return lines;
    }

    private static List<string[]> Read(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!).ToArray());
        }

        return rows;
    }
}
