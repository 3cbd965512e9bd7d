using MiniCa.TestSupport;

namespace MiniCa.Web.Tests;

/// <summary>
/// The portal's database in this project: a throw-away PostgreSQL server of its own. Every web test of
/// MiniCa.Web.Tests runs again here, the same source, against it.
/// </summary>
public sealed partial class PortalFixture
{
    private static PostgresServer? _postgres;

    /// <summary>The configuration's Database member with its trailing comma.</summary>
    private static async Task<string> StartDatabaseAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        await _postgres.CreateDatabaseAsync("portal");
        return $$"""
            "Database": { "Provider": "Postgres", "ConnectionString": "{{_postgres.ConnectionString("portal")}}" },
            """;
    }

    /// <summary>Stops the server under the running portal, as an outage or a failover would (<see cref="PortalOutageTests"/>).</summary>
    internal static Task StopDatabaseServerAsync() => _postgres!.StopAsync();

    /// <summary>Starts the server again and drops the pooled connections the outage broke, so the tests after go on.</summary>
    internal static async Task StartDatabaseServerAgainAsync()
    {
        await _postgres!.StartAgainAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    private static async Task StopDatabaseAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
