namespace MiniCa.Web.Tests;

/// <summary>The portal's database in this project: the embedded default, a SQLite file in the data folder.</summary>
public sealed partial class PortalFixture
{
    /// <summary>The configuration's Database member with its trailing comma, or nothing for the default.</summary>
    private static Task<string> StartDatabaseAsync() => Task.FromResult(string.Empty);

    private static Task StopDatabaseAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        return Task.CompletedTask;
    }
}
