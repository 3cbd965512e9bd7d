namespace MiniCa.TestSupport;

/// <summary>
/// A throw-away PostgreSQL server from Debian's package: its own data folder (initdb) and a Unix socket in a temp
/// directory, no TCP listener, trust authentication, stopped and deleted on dispose. The server refuses to run as
/// root; as root it runs as the <c>postgres</c> account the package creates. Durability is off (fsync) for tests, as
/// nothing here outlives the test run, and on for benchmarks, whose commits must cost what a real server's do.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>The superuser the tests connect as.</summary>
    public const string User = "minica";

    private readonly TempDirectory _directory;
    private readonly string _bin;
    private readonly string? _runAs;
    private readonly int _port;
    private readonly bool _durable;

    private PostgresServer(TempDirectory directory, string bin, string? runAs, int port, bool durable)
    {
        _durable = durable;
        _directory = directory;
        _bin = bin;
        _runAs = runAs;
        _port = port;
    }

    private string Data => _directory.Combine("data");

    /// <summary>Npgsql's connection string for <paramref name="database"/> (no password: the server trusts the socket).</summary>
    public string ConnectionString(string database) => $"Host={_directory.Path};Port={_port};Username={User};Database={database};Pooling=true";

    /// <summary>
    /// Starts a new server, <paramref name="durable"/> (fsync on: every commit is flushed to disk) or not; fails naming
    /// the package to install when PostgreSQL is missing.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(bool durable = false)
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb missing): run 'apt-get install -y postgresql' or ./test.sh, which installs it.");
        }

        var directory = new TempDirectory("minica-pg");
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        var server = new PostgresServer(directory, bin, runAs, FreePort.Next(), durable);
        try
        {
            if (runAs is not null)
            {
                await Check(ProcessRunner.RunAsync("chown", ["-R", runAs, directory.Path]), "chown");
            }

            await Check(server.RunServerToolAsync("initdb", ["-D", server.Data, "-U", User, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]), "initdb");
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server at once (<c>pg_ctl stop -m fast</c>: sessions are ended, as by a failover).</summary>
    public Task StopAsync() => Check(RunServerToolAsync("pg_ctl", ["-D", Data, "-m", "fast", "-w", "-t", "60", "stop"]), "pg_ctl stop");

    /// <summary>Starts the stopped server again, on the same socket and port.</summary>
    public Task StartAgainAsync() => Check(RunServerToolAsync("pg_ctl", [
        "-D", Data, "-l", _directory.Combine("server.log"), "-w", "-t", "60",
        "-o", $"-p {_port} -k {_directory.Path} -c listen_addresses= -c fsync={(_durable ? "on" : "off")} -c max_connections=200", "start"]), "pg_ctl start");

    /// <summary>Creates an empty database.</summary>
    public Task CreateDatabaseAsync(string name) =>
        Check(ProcessRunner.RunAsync(Path.Combine(_bin, "psql"), ["-h", _directory.Path, "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", $"CREATE DATABASE \"{name}\""]), "CREATE DATABASE");

    /// <summary>Restores a dump (custom format) into <paramref name="database"/> with pg_restore, as this server's superuser.</summary>
    public Task RestoreAsync(string database, string dump) =>
        Check(ProcessRunner.RunAsync(Path.Combine(_bin, "pg_restore"), ["--no-owner", "--exit-on-error", "-h", _directory.Path, "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User, "-d", database, dump]), "pg_restore");

    /// <summary>Runs a query with psql and returns its unaligned, tuples-only output.</summary>
    public async Task<string> QueryAsync(string database, string sql)
    {
        var result = await ProcessRunner.RunAsync(Path.Combine(_bin, "psql"), ["-h", _directory.Path, "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User, "-d", database, "-v", "ON_ERROR_STOP=1", "-A", "-t", "-c", sql]);
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : throw new InvalidOperationException($"psql: {result.Combined}");
    }

    private Task<ProcessResult> RunServerToolAsync(string tool, string[] arguments) =>
        _runAs is null
            ? ProcessRunner.RunAsync(Path.Combine(_bin, tool), arguments, workingDirectory: _directory.Path)
            : ProcessRunner.RunAsync("runuser", ["-u", _runAs, "--", Path.Combine(_bin, tool), .. arguments], workingDirectory: _directory.Path);

    private static async Task Check(Task<ProcessResult> run, string what)
    {
        var result = await run;
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed ({result.ExitCode}): {result.Combined}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(Data, "postmaster.pid")))
        {
            await RunServerToolAsync("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);
        }

        _directory.Dispose();
    }
}
