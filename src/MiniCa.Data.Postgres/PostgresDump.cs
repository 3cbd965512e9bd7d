using System.ComponentModel;
using System.Data;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Errors;
using MiniCa.Data.Queries;
using Npgsql;

namespace MiniCa.Data.Postgres;

/// <summary>What <see cref="PostgresDump.CreateAsync"/> wrote: the dump and what it records, read in its snapshot.</summary>
/// <param name="File">The dump.</param>
/// <param name="Authorities">CA certificates it records.</param>
/// <param name="Certificates">Subscriber certificates it records.</param>
/// <param name="ActiveAuthorities">The authorities with a signed certificate: their keys must be in the HSM.</param>
public sealed record PostgresDumpSummary(string File, long Authorities, long Certificates, IReadOnlyList<RecordedAuthority> ActiveAuthorities);

/// <summary>
/// A backup of the issuance database on PostgreSQL: <c>pg_dump</c> (custom format) from a snapshot this process
/// exports, so the counts it reports are the dump's own, and under the key ceremony's database lock, so that no
/// process sharing the database and the HSM makes keys meanwhile. The dump is then read back with
/// <c>pg_restore --list</c>. PostgreSQL's own tools, not a copy by hand: <c>pg_restore</c> restores it anywhere.
/// </summary>
public static class PostgresDump
{
    /// <summary>Dumps the database of <paramref name="connectionString"/> into <paramref name="file"/>.</summary>
    /// <param name="connectionString">Npgsql's connection string, without a password.</param>
    /// <param name="password">The password, from its configured source, or <see langword="null"/>.</param>
    /// <param name="file">The dump to write (it must not exist).</param>
    /// <param name="cancellationToken">Cancels the dump.</param>
    /// <exception cref="CaException">pg_dump is missing, the database does not answer, or the dump failed.</exception>
    public static async Task<PostgresDumpSummary> CreateAsync(string connectionString, string? password, string file, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "minica-backup" };
        if (password is not null)
        {
            builder.Password = password;
        }

        var options = new DbContextOptionsBuilder<MiniCaDbContext>();
        PostgresDatabase.Use(options, builder.ConnectionString);
        await using var db = new MiniCaDbContext(options.Options);
        try
        {
            await using var ceremony = await PostgresDatabase.HoldCeremonyLockAsync(db, TimeSpan.FromMinutes(10), () => { }, cancellationToken)
                ?? throw new CaException(CaErrorKind.InvalidState, "Another process sharing the database has held the key ceremony for 10 minutes; back up when it has finished.");
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
            string snapshot;
            await using (var export = new NpgsqlCommand("SELECT pg_export_snapshot()", connection, transaction))
            {
                snapshot = (string)(await export.ExecuteScalarAsync(cancellationToken))!;
            }

            var (authorities, certificates) = await BackupQueries.CountsAsync(connection, transaction, cancellationToken);
            var active = await BackupQueries.ActiveAuthoritiesAsync(connection, transaction, cancellationToken);

            // The snapshot stays valid while this transaction is open: pg_dump reads exactly what was counted.
            await RunAsync("pg_dump", ["--format=custom", "--no-password", $"--snapshot={snapshot}", $"--file={file}", .. Target(builder)], Environment(builder), cancellationToken);
            await transaction.CommitAsync(cancellationToken);

            await CheckListAsync(file, cancellationToken);
            return new PostgresDumpSummary(file, authorities, certificates, active);
        }
        catch (NpgsqlException ex)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The issuance database did not answer the backup ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// Restores the dump <paramref name="file"/> with <c>pg_restore --no-owner</c> into the database that
    /// <paramref name="connectionString"/> names, which must hold no table: nothing in it is overwritten.
    /// </summary>
    /// <exception cref="CaException">The database does not answer or is not empty, or pg_restore failed.</exception>
    public static async Task RestoreAsync(string connectionString, string? password, string file, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "minica-backup" };
        if (password is not null)
        {
            builder.Password = password;
        }

        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var tables = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')", connection);
            if ((long)(await tables.ExecuteScalarAsync(cancellationToken))! > 0)
            {
                throw new CaException(CaErrorKind.AlreadyExists, $"The database {builder.Database} is not empty: a backup is restored into an empty database (CREATE DATABASE name OWNER user), so that nothing in one is overwritten.");
            }
        }
        catch (NpgsqlException ex)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The database {builder.Database} did not answer ({ex.Message}).", ex);
        }

        await RunAsync("pg_restore", ["--no-owner", "--exit-on-error", "--no-password", .. Target(builder), file], Environment(builder), cancellationToken);
    }

    /// <summary>Reads <paramref name="file"/> back with <c>pg_restore --list</c>: it must list the Certificates table's data.</summary>
    /// <exception cref="CaException">pg_restore cannot read it, or the table's data is not in it.</exception>
    public static async Task CheckListAsync(string file, CancellationToken cancellationToken = default)
    {
        var list = await RunAsync("pg_restore", ["--list", file], [], cancellationToken);
        if (!list.Contains("TABLE DATA public Certificates", StringComparison.Ordinal))
        {
            throw new CaException(CaErrorKind.StorageFailed, $"pg_restore --list {file} does not list the Certificates table's data; the dump is not usable.");
        }
    }

    /// <summary>
    /// Throws, naming the package, when pg_dump or pg_restore is not on the PATH: checked before a backup writes
    /// anything, so a missing tool leaves no half-made folder.
    /// </summary>
    public static void RequireTools()
    {
        var path = System.Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries) ?? [];
        foreach (var tool in new[] { "pg_dump", "pg_restore" })
        {
            if (!path.Any(folder => File.Exists(Path.Combine(folder, tool))))
            {
                throw new CaException(CaErrorKind.Configuration, $"{tool} was not found on the PATH: install PostgreSQL's client tools, of the server's major version or newer (Debian: apt-get install postgresql-client).");
            }
        }
    }

    /// <summary>libpq's options for the server and database that Npgsql's connection string names.</summary>
    private static IEnumerable<string> Target(NpgsqlConnectionStringBuilder builder)
    {
        if (builder.Host is { Length: > 0 } host)
        {
            yield return $"--host={host}";
        }

        yield return $"--port={builder.Port}";
        if (builder.Username is { Length: > 0 } user)
        {
            yield return $"--username={user}";
        }

        if (builder.Database is { Length: > 0 } database)
        {
            yield return $"--dbname={database}";
        }
    }

    /// <summary>The password and TLS settings, as libpq's environment variables (never on a command line).</summary>
    private static Dictionary<string, string> Environment(NpgsqlConnectionStringBuilder builder)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["PGAPPNAME"] = "minica-backup" };
        if (!string.IsNullOrEmpty(builder.Password))
        {
            environment["PGPASSWORD"] = builder.Password;
        }

        environment["PGSSLMODE"] = builder.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        };
        if (!string.IsNullOrEmpty(builder.RootCertificate))
        {
            environment["PGSSLROOTCERT"] = builder.RootCertificate;
        }

        return environment;
    }

    /// <summary>Runs one of PostgreSQL's client tools; returns its output, or throws with its error output.</summary>
    private static async Task<string> RunAsync(string tool, IEnumerable<string> arguments, Dictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception ex)
        {
            throw new CaException(CaErrorKind.Configuration, $"{tool} was not found: install PostgreSQL's client tools, of the server's major version or newer (Debian: apt-get install postgresql-client).", ex);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return process.ExitCode == 0
                ? await output
                : throw new CaException(CaErrorKind.StorageFailed, $"{tool} failed (exit code {process.ExitCode}): {(await error).Trim()}");
        }
    }
}
