using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace MiniCa.Data;

/// <summary>
/// Settings every SQLite connection gets when it opens. <c>synchronous=FULL</c>: a transaction that recorded a
/// certificate about to be signed is on disk before the HSM is asked (ARCHITECTURE.md §2); in WAL mode (which the
/// bootstrapper sets) NORMAL could lose the last commits to a power cut, FULL fsyncs the log at every commit.
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=FULL;";

    /// <inheritdoc />
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
