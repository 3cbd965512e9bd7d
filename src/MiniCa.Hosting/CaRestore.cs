using System.Text.Json;
using Microsoft.Data.Sqlite;
using MiniCa.Core.Errors;

namespace MiniCa.Hosting;

/// <summary>What <see cref="CaRestore.RunAsync"/> did.</summary>
/// <param name="Check">The backup's check, made before anything was written.</param>
/// <param name="Target">The folder the CA was restored into; <see langword="null"/> when the check failed and nothing was written.</param>
/// <param name="ConfigurationFile">The restored configuration file, <see langword="null"/> for a CA on the built-in defaults.</param>
/// <param name="Changes">Each setting of the restored configuration changed to name the restored parts, as <c>Key: value</c>.</param>
public sealed record RestoreReport(BackupCheckReport Check, string? Target, string? ConfigurationFile, IReadOnlyList<string> Changes);

/// <summary>
/// <c>minica backup restore</c>: a backup checked as <c>minica backup verify</c> checks it (<see cref="CaBackupCheck"/>)
/// and, only when every part passes, copied into a new folder (folders 0700, files 0600) from which the CA starts:
/// its configuration's data folder, profiles and database are made to name the restored ones, wherever the original
/// had them. A PostgreSQL backup is restored into an empty database of the CA's server (the check's
/// <c>--restore-into</c>), which the restored configuration then names. The backup itself is never changed, and an
/// existing folder that is not empty is never written into.
/// </summary>
public static class CaRestore
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Checks the backup in <paramref name="backup"/> and restores it into the new folder <paramref name="target"/>.</summary>
    /// <exception cref="CaException">The target is not a new or empty folder, a PostgreSQL backup has no database to go into, or a copy failed.</exception>
    public static async Task<RestoreReport> RunAsync(string backup, string target, BackupCheckOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backup);
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        ArgumentNullException.ThrowIfNull(options);
        backup = Path.GetFullPath(backup);
        target = Path.GetFullPath(target);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"{target} exists and is not empty; a CA is restored into a new folder, never over another.");
        }

        if (IsInside(backup, target) || IsInside(target, backup))
        {
            throw new CaException(CaErrorKind.InvalidState, $"{target} and the backup {backup} lie one inside the other; restore into a folder apart from it.");
        }

        if (Directory.Exists(backup) && BackupManifest.Read(backup) is { Database.Provider: "Postgres" } && options.RestoreInto is null)
        {
            throw new CaException(CaErrorKind.InvalidState, $"The backup in {backup} holds a PostgreSQL dump: give --restore-into NAME, an empty database on the CA's server for it to be restored into, which the restored configuration will name.");
        }

        var check = await CaBackupCheck.RunAsync(backup, options, cancellationToken);
        if (!check.Passed)
        {
            return new RestoreReport(check, null, null, []);
        }

        var manifest = check.Manifest;
        var changes = new List<string>();
        try
        {
            CaBackup.CopyPrivateTree(backup, target);
            File.Delete(Path.Combine(target, BackupManifest.FileName));
            string? configuration = null;
            if (manifest.ConfigurationFile is { } name)
            {
                configuration = Path.Combine(target, name);
                var settings = new JsonSettingsText(await File.ReadAllTextAsync(configuration, cancellationToken));
                Set(settings, ["DataDirectory"], manifest.DataDirectory, changes, byDefault: "data");
                Set(settings, ["PoliciesDirectory"], manifest.PoliciesDirectory, changes, byDefault: "policies");
                var connection = settings.GetString("Database", "ConnectionString");
                if (manifest.Database.Provider == "Postgres" && connection is not null)
                {
                    // The check restored the dump there; the server, user and password stay the CA's.
                    var builder = new Npgsql.NpgsqlConnectionStringBuilder(connection) { Database = options.RestoreInto };
                    Set(settings, ["Database", "ConnectionString"], builder.ConnectionString, changes);
                }
                else if (connection is not null)
                {
                    // An explicit SQLite file: the restored one, the connection's other settings kept.
                    var builder = new SqliteConnectionStringBuilder(connection) { DataSource = Path.Combine(target, manifest.Database.File) };
                    Set(settings, ["Database", "ConnectionString"], builder.ConnectionString, changes);
                }

                if (settings.GetString("Backup", "Directory") is { } backups && !IsInside(target, Path.GetFullPath(backups, target)))
                {
                    // The original's folder (a folder inside the restored one is the restored CA's own): the restored
                    // CA's backups there would be taken for the original's newest, so that it made none of its own, and
                    // would prune the original's. Scheduled backups stay off until the operator names a folder.
                    settings.Remove("Backup", "Directory");
                    changes.Add($"Backup:Directory: removed (it named {backups}, the original CA's backups): the restored CA makes no scheduled backups until Backup:Directory names a folder of its own");
                }

                if (manifest.BlockedKeyLists is { Count: > 0 } lists)
                {
                    // Each list names its restored copy, relative to the configuration's folder (the original's may be
                    // outside the backup, on another machine).
                    var restored = lists.Select(l => l.File).ToList();
                    if (settings.GetStrings("BlockedKeyLists") is null)
                    {
                        changes.Add($"BlockedKeyLists is not in {name}: where it is given, name the restored copies {string.Join(", ", restored.Select(r => Path.Combine(target, r)))}");
                    }
                    else if (settings.SetStrings(["BlockedKeyLists"], restored))
                    {
                        changes.Add($"BlockedKeyLists: {string.Join(", ", restored)}");
                    }
                }

                if (changes.Count > 0)
                {
                    // Rewritten in place, only when a setting changed: comments and everything else stay as written.
                    await File.WriteAllTextAsync(configuration, settings.Text, cancellationToken);
                }

                if (manifest.Database.Provider == "Postgres" && connection is null)
                {
                    // Given elsewhere (an environment variable): the operator names the database there.
                    changes.Add($"Database:ConnectionString is not in {name}: where it is given, name the database {options.RestoreInto}");
                }
            }
            else if (manifest.DataDirectory != "data" || manifest.PoliciesDirectory != "policies")
            {
                // The built-in defaults would not find them: a configuration that does.
                configuration = Path.Combine(target, "ca.config.json");
                var created = new Dictionary<string, string> { ["DataDirectory"] = manifest.DataDirectory, ["PoliciesDirectory"] = manifest.PoliciesDirectory };
                changes.AddRange(created.Select(setting => $"{setting.Key}: {setting.Value}"));
                await File.WriteAllTextAsync(configuration, JsonSerializer.Serialize(created, Indented) + "\n", cancellationToken);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(configuration, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }

            if (manifest.ConfigurationFile is null && manifest.BlockedKeyLists is { Count: > 0 } fromEnvironment)
            {
                // A CA on the built-in defaults had them from the environment.
                changes.Add($"BlockedKeyLists came from the environment: where the restored CA runs, name the restored copies {string.Join(", ", fromEnvironment.Select(l => Path.Combine(target, l.File)))}");
            }

            // The restored configuration loads and names the restored parts.
            var loaded = MiniCaConfiguration.LoadFrom(configuration, target, []);
            var expected = Path.Combine(target, manifest.DataDirectory);
            if (!string.Equals(Path.GetFullPath(loaded.Options.DataDirectory), Path.GetFullPath(expected), StringComparison.Ordinal))
            {
                throw new CaException(CaErrorKind.Configuration, $"the restored configuration names the data folder {loaded.Options.DataDirectory}, not {expected}");
            }

            if (loaded.Options.Backup.Directory is { } given)
            {
                // Not from the restored file, which names none now: from the environment this restore ran in.
                changes.Add($"Backup:Directory is given by the environment (MINICA_Backup__Directory={given}): where the restored CA runs, name a folder of its own there, or its backups would go among the original CA's");
            }

            return new RestoreReport(check, target, configuration, changes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or CaException)
        {
            throw new CaException(ex is CaException known ? known.Kind : CaErrorKind.StorageFailed, $"The restore into {target} failed: {ex.Message.TrimEnd('.')}. The folder is incomplete; remove it.", ex);
        }
    }

    private static bool IsInside(string folder, string path)
    {
        var relative = Path.GetRelativePath(folder, path);
        return relative == "." || !(relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative));
    }

    /// <summary>
    /// Sets <paramref name="path"/> to <paramref name="value"/>, noting the change; nothing when it has that value
    /// already, or is absent and <paramref name="byDefault"/> is that value.
    /// </summary>
    private static void Set(JsonSettingsText settings, string[] path, string value, List<string> changes, string? byDefault = null)
    {
        if (settings.GetString(path) is null && byDefault == value)
        {
            return;
        }

        if (settings.SetString(path, value))
        {
            changes.Add($"{string.Join(':', path)}: {value}");
        }
    }
}
