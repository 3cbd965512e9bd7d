using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace MiniCa.Data.Postgres;

/// <summary>The issuance database on PostgreSQL (<c>Database:Provider</c> <c>Postgres</c>).</summary>
public static class PostgresDatabase
{
    /// <summary>This assembly, which holds the PostgreSQL migrations.</summary>
    public static string MigrationsAssembly { get; } = typeof(PostgresDatabase).Assembly.GetName().Name!;

    /// <summary>What is wrong with <paramref name="connectionString"/> for Npgsql, or <see langword="null"/>.</summary>
    public static string? CheckConnectionString(string connectionString)
    {
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (ArgumentException ex)
        {
            return $"not an Npgsql connection string ({ex.Message})";
        }
    }

    /// <summary>
    /// Holds the migrations' lock until disposed (a session-level advisory lock of its own key space on
    /// <paramref name="db"/>'s connection, which stays open until then), and creates EF Core's migration history table
    /// when absent. One process at a time reads the pending migrations and runs them: EF Core's own lock on PostgreSQL
    /// lasts one migration's transaction, so two processes starting together with two migrations pending both ran the
    /// second, and one failed ("relation … already exists"). The table is made first because the provider's migrator
    /// reads it and logs an error when it is missing (efcore.pg issue 3407), so every first start on an empty database
    /// showed the operator a failed command.
    /// </summary>
    /// <param name="db">A context whose connection carries the lock; the caller disposes it after the lock.</param>
    /// <param name="cancellationToken">Cancels the wait for another process's migrations.</param>
    public static async Task<IAsyncDisposable> HoldMigrationLockAsync(DbContext db, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var held = new HeldLock(db, MigrationLock, ownsContext: false);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({LockClass}, {MigrationLock})", cancellationToken);
            await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), cancellationToken);
            return held;
        }
        catch
        {
            await held.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Holds the key ceremony's lock until disposed: a session-level advisory lock on <paramref name="db"/>'s
    /// connection, so that processes on different machines sharing the database (and an HSM) run one ceremony at a
    /// time, as the data directory's file lock does on one machine. A process that dies releases it with its session.
    /// </summary>
    /// <param name="db">A context of its own; its connection stays open, and the lock held, until disposal.</param>
    /// <param name="timeout">How long to wait for another process's ceremony.</param>
    /// <param name="waiting">Called once when the lock is taken elsewhere, before waiting.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The held lock, or <see langword="null"/> after <paramref name="timeout"/>.</returns>
    public static async Task<IAsyncDisposable?> HoldCeremonyLockAsync(DbContext db, TimeSpan timeout, Action waiting, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(waiting);
        await db.Database.OpenConnectionAsync(cancellationToken);
        var deadline = DateTime.UtcNow + timeout;
        var waited = false;
        while (!await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({LockClass}, {CeremonyLock}) AS \"Value\"").SingleAsync(cancellationToken))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return null;
            }

            if (!waited)
            {
                waiting();
                waited = true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }

        return new HeldLock(db, CeremonyLock, ownsContext: false);
    }

    /// <summary>
    /// Takes the database-wide writer's turn of <see cref="WriteGate"/> (a session-level advisory lock on a pooled
    /// connection of its own) and returns it held; disposing it releases the lock and the connection.
    /// </summary>
    public static async Task<IAsyncDisposable> HoldWriterTurnAsync(IDbContextFactory<MiniCaDbContext> contexts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        var db = await contexts.CreateDbContextAsync(cancellationToken);
        try
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({LockClass}, {WriterLock})", cancellationToken);
            return new HeldLock(db, WriterLock, ownsContext: true);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>"MiCa": the two-key advisory locks' first key (keys' locks use the one-key space).</summary>
    private const int LockClass = 0x4D694361;

    /// <summary>The second key of the migration history table's lock.</summary>
    private const int MigrationLock = 1;

    /// <summary>The second key of the key ceremony's lock.</summary>
    private const int CeremonyLock = 2;

    /// <summary>The second key of the writer's turn (<see cref="WriteGate"/>).</summary>
    private const int WriterLock = 3;

    private sealed class HeldLock(DbContext db, int lockKey, bool ownsContext) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            var connection = (Npgsql.NpgsqlConnection)db.Database.GetDbConnection();
            try
            {
                // Released on this session before the connection returns to Npgsql's pool, where it would stay held.
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({LockClass}, {lockKey})");
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
            {
                // Not released (the connection failed): the physical connection is closed instead of pooled, and
                // its session, and the lock, end with it.
                Npgsql.NpgsqlConnection.ClearPool(connection);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
                if (ownsContext)
                {
                    await db.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Configures <paramref name="builder"/> for PostgreSQL with this assembly's migrations and compiled model.</summary>
    /// <param name="builder">The context's options.</param>
    /// <param name="connectionString">Npgsql's connection string, without a password.</param>
    /// <param name="password">The password, from its configured source, or <see langword="null"/>.</param>
    public static DbContextOptionsBuilder Use(DbContextOptionsBuilder builder, string connectionString, string? password = null) =>
        // The compiled model (CompiledModel here, `dotnet ef dbcontext optimize` in this folder) spares every
        // process, each CLI command among them, about 0.6 s of model building; a unit test fails when it no longer
        // matches the model the code builds.
        UseBuiltModel(builder, connectionString, password).UseModel(CompiledModel.MiniCaDbContextModel.Instance);

    /// <summary>As <see cref="Use"/>, with the model the code builds (design time, and the compiled model's test).</summary>
    internal static DbContextOptionsBuilder UseBuiltModel(DbContextOptionsBuilder builder, string connectionString, string? password = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (password is not null)
        {
            connection.Password = password;
        }

        return builder.UseNpgsql(connection.ConnectionString, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly));
    }
}

/// <summary>Lets <c>dotnet ef migrations add NAME</c> (run in this folder) build the PostgreSQL model without a server.</summary>
internal sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<MiniCaDbContext>
{
    public MiniCaDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<MiniCaDbContext>();
        // The built model, never the compiled one: migrations and `dbcontext optimize` must see the code's model.
        PostgresDatabase.UseBuiltModel(builder, "Host=localhost;Database=minica-design-time");
        return new MiniCaDbContext(builder.Options);
    }
}
