using Microsoft.Data.Sqlite;
using MiniCa.Core.Errors;
using MiniCa.Data.Queries;
using MiniCa.Hsm;

namespace MiniCa.Hosting;

/// <summary>What <see cref="CaBackup.CreateAsync"/> wrote.</summary>
/// <param name="Directory">The backup's folder.</param>
/// <param name="Database">The copy of the issuance database.</param>
/// <param name="Authorities">CA certificates recorded in the copy.</param>
/// <param name="Certificates">Subscriber certificates recorded in the copy.</param>
/// <param name="TokenFiles">Files of the embedded token store copied (0 with a configured HSM).</param>
/// <param name="StartsAsIs">Whether a CA started on the copied configuration file runs on the copy: its data folder,
/// SQLite database and profiles lie under the configuration's folder, at the same relative paths (a PostgreSQL
/// dump is restored with pg_restore first).</param>
/// <param name="Files">Files listed in the backup's manifest (<see cref="BackupManifest"/>), with their SHA-256.</param>
public sealed record BackupSummary(string Directory, string Database, long Authorities, long Certificates, int TokenFiles, bool StartsAsIs, int Files);

/// <summary>
/// A consistent copy of a CA, taken while it runs: the issuance database through SQLite's online backup (a snapshot
/// of one moment, whatever the server writes meanwhile), or on PostgreSQL through pg_dump from one snapshot
/// (<see cref="MiniCa.Data.Postgres.PostgresDump"/>), and with the embedded HSM its token store and PIN files,
/// together, since the token files are encrypted under the PIN. The copy is laid out as a data directory (with the
/// configuration file beside it), so a CA starts from it wherever it is put.
/// </summary>
public static class CaBackup
{
    /// <summary>Writes the backup of the CA configured by <paramref name="loaded"/> into the new folder <paramref name="target"/>.</summary>
    /// <exception cref="CaException">The folder exists and is not empty, or a copy (or pg_dump) failed.</exception>
    public static async Task<BackupSummary> CreateAsync(LoadedConfiguration loaded, string target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        var options = loaded.Options;
        var source = options.Database.IsPostgres ? null : new SqliteConnectionStringBuilder(options.Database.ConnectionString).DataSource;
        if (source is null)
        {
            MiniCa.Data.Postgres.PostgresDump.RequireTools();
        }

        if (source is not null && !File.Exists(source))
        {
            throw new CaException(CaErrorKind.NotFound, $"The issuance database {source} does not exist; there is nothing to back up.");
        }

        target = Path.GetFullPath(target);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"{target} exists and is not empty; a backup goes into a new folder.");
        }

        // The copy keeps the paths the configuration gives relative to its folder, so it starts as it is.
        var dataRelative = RelativeInside(loaded.BaseDirectory, options.DataDirectory);
        var policiesRelative = RelativeInside(loaded.BaseDirectory, options.PoliciesDirectory);
        // A PostgreSQL database is restored with pg_restore, into a database the configuration then names.
        var startsAsIs = dataRelative is not null && policiesRelative is not null && (source is null || RelativeInside(options.DataDirectory, source) is not null);
        var data = Path.Combine(target, dataRelative ?? "data");
        EmbeddedSoftHsm.CreatePrivateDirectory(target);
        EmbeddedSoftHsm.CreatePrivateDirectory(data);
        try
        {
            // No key ceremony runs while the token store and the database are copied, so they agree on the CA's keys.
            using var turn = ExclusiveFileLock.Acquire(Path.Combine(options.DataDirectory, ".ceremony.lock"), "the key ceremony", TimeSpan.FromMinutes(10));
            var tokenFiles = 0;
            if (options.Hsm.IsEmbedded)
            {
                var from = EmbeddedSoftHsm.PathsFor(options.DataDirectory);
                var to = EmbeddedSoftHsm.PathsFor(data);
                EmbeddedSoftHsm.CreatePrivateDirectory(to.HsmDirectory);
                tokenFiles = CopyPrivateTree(from.TokenDirectory, to.TokenDirectory);
                CopyPrivateTree(Path.GetDirectoryName(from.UserPinFile)!, Path.GetDirectoryName(to.UserPinFile)!);
                CopyPrivateFile(from.ConfigFile, to.ConfigFile);
            }

            var (database, authorities, certificates, active) = source is null
                ? await DumpAsync(loaded, data, cancellationToken)
                : await CopyAsync(source, data, cancellationToken);
            var certificateFiles = Path.Combine(options.DataDirectory, "ca");
            if (Directory.Exists(certificateFiles))
            {
                CopyPrivateTree(certificateFiles, Path.Combine(data, "ca"));
            }

            if (loaded.ConfigFile is not null)
            {
                CopyPrivateFile(loaded.ConfigFile, Path.Combine(target, Path.GetFileName(loaded.ConfigFile)));
            }

            // The certificate profiles are configuration too: a CA does not start without them.
            CopyPrivateTree(options.PoliciesDirectory, Path.Combine(target, policiesRelative ?? "policies"));

            // So are the blocked key lists (a CA does not start without the files it names): inside the configuration's
            // folder at the same place, else under blocked-key-lists/, which the restore then names.
            var lists = new List<BackupKeyList>();
            for (var i = 0; i < options.BlockedKeyLists.Count; i++)
            {
                var list = options.BlockedKeyLists[i];
                var copy = RelativeInside(loaded.BaseDirectory, list) is { } relative
                    ? Path.Combine(target, relative)
                    : Path.Combine(target, "blocked-key-lists", $"{i + 1}-{Path.GetFileName(list)}");
                startsAsIs &= RelativeInside(loaded.BaseDirectory, list) is not null;
                if (!File.Exists(copy))
                {
                    EmbeddedSoftHsm.CreatePrivateDirectory(Path.GetDirectoryName(copy)!);
                    CopyPrivateFile(list, copy);
                }

                lists.Add(new BackupKeyList(list, BackupManifest.RelativePath(target, copy)));
            }

            // Last: a backup with its manifest is complete, and every file in it can be checked against it.
            var manifest = new BackupManifest(
                BackupManifest.CurrentFormat,
                DateTimeOffset.UtcNow,
                loaded.ConfigFile is null ? null : Path.GetFileName(loaded.ConfigFile),
                BackupManifest.RelativePath(target, data),
                BackupManifest.RelativePath(target, Path.Combine(target, policiesRelative ?? "policies")),
                options.Hsm.IsEmbedded,
                new BackupDatabase(source is null ? "Postgres" : "Sqlite", BackupManifest.RelativePath(target, database), authorities, certificates),
                active,
                BackupManifest.Describe(target),
                lists);
            manifest.Write(target);
            return new BackupSummary(target, database, authorities, certificates, tokenFiles, startsAsIs, manifest.Files.Count);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SqliteException)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The backup into {target} failed: {ex.Message} The folder is incomplete; remove it.", ex);
        }
        catch (CaException ex) when (source is null)
        {
            throw new CaException(ex.Kind, $"The backup into {target} failed: {ex.Message} The folder is incomplete; remove it.", ex);
        }
    }

    /// <summary>The SQLite database through its online backup, as one self-contained file, integrity-checked.</summary>
    private static async Task<(string Database, long Authorities, long Certificates, IReadOnlyList<RecordedAuthority> Active)> CopyAsync(string source, string data, CancellationToken cancellationToken)
    {
        var database = Path.Combine(data, Path.GetFileName(source));
        await using (var from = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source, Pooling = false }.ToString()))
        await using (var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString()))
        {
            await from.OpenAsync(cancellationToken);
            await to.OpenAsync(cancellationToken);
            from.BackupDatabase(to);
            // One self-contained file (no -wal or -shm beside it); a CA started on it turns the log on again.
            await using var journal = to.CreateCommand();
            journal.CommandText = "PRAGMA journal_mode=DELETE";
            await journal.ExecuteNonQueryAsync(cancellationToken);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(database, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var (authorities, certificates, active) = await CheckAsync(database, cancellationToken);
        return (database, authorities, certificates, active);
    }

    /// <summary>The PostgreSQL database through pg_dump, from one snapshot, as <c>minica.pgdump</c> (custom format).</summary>
    private static async Task<(string Database, long Authorities, long Certificates, IReadOnlyList<RecordedAuthority> Active)> DumpAsync(LoadedConfiguration loaded, string data, CancellationToken cancellationToken)
    {
        var options = loaded.Options;
        var password = options.Database.PasswordSource is { } passwordSource ? PinSource.Resolve(passwordSource, loaded.BaseDirectory, "Database:PasswordSource") : null;
        var dump = await MiniCa.Data.Postgres.PostgresDump.CreateAsync(options.Database.ConnectionString!, password, Path.Combine(data, "minica.pgdump"), cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dump.File, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return (dump.File, dump.Authorities, dump.Certificates, dump.ActiveAuthorities);
    }

    /// <summary><paramref name="path"/> relative to <paramref name="folder"/> when it lies inside it, else <see langword="null"/>.</summary>
    private static string? RelativeInside(string folder, string path)
    {
        var relative = Path.GetRelativePath(Path.GetFullPath(folder), Path.GetFullPath(path));
        return relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative) ? null : relative;
    }

    /// <summary>The copy passes SQLite's integrity check; returns what it records.</summary>
    private static async Task<(long Authorities, long Certificates, IReadOnlyList<RecordedAuthority> Active)> CheckAsync(string database, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        if (await IntegrityProblemAsync(connection, cancellationToken) is { } problem)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The copy of the issuance database {database} fails SQLite's integrity check: {problem}");
        }

        var (authorities, certificates) = await BackupQueries.CountsAsync(connection, null, cancellationToken);
        return (authorities, certificates, await BackupQueries.ActiveAuthoritiesAsync(connection, null, cancellationToken));
    }

    /// <summary>SQLite's integrity check of the open database: <see langword="null"/> when it says ok, else its first finding.</summary>
    internal static async Task<string?> IntegrityProblemAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        var integrity = (string?)await command.ExecuteScalarAsync(cancellationToken);
        return integrity == "ok" ? null : integrity;
    }

    /// <summary>Copies a folder's files (folders 0700, files 0600); returns how many files.</summary>
    internal static int CopyPrivateTree(string from, string to)
    {
        EmbeddedSoftHsm.CreatePrivateDirectory(to);
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(to, Path.GetRelativePath(from, file));
            EmbeddedSoftHsm.CreatePrivateDirectory(Path.GetDirectoryName(copy)!);
            CopyPrivateFile(file, copy);
            count++;
        }

        return count;
    }

    private static void CopyPrivateFile(string from, string to)
    {
        File.Copy(from, to);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
