using System.Text.Json;
using System.Text.Json.Nodes;
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
                var root = JsonNode.Parse(await File.ReadAllTextAsync(configuration, cancellationToken), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                    ?? throw new CaException(CaErrorKind.Configuration, $"{configuration}: not a JSON object.");
                Set(root, "DataDirectory", manifest.DataDirectory, changes, byDefault: "data");
                Set(root, "PoliciesDirectory", manifest.PoliciesDirectory, changes, byDefault: "policies");
                var database = Child(root, "Database");
                var connection = database is not null && Find(database, "ConnectionString")?.Value is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
                if (manifest.Database.Provider == "Postgres" && connection is not null)
                {
                    // The check restored the dump there; the server, user and password stay the CA's.
                    var builder = new Npgsql.NpgsqlConnectionStringBuilder(connection) { Database = options.RestoreInto };
                    Set(database!, "ConnectionString", builder.ConnectionString, changes, "Database:");
                }
                else if (connection is not null)
                {
                    // An explicit SQLite file: the restored one, the connection's other settings kept.
                    var builder = new SqliteConnectionStringBuilder(connection) { DataSource = Path.Combine(target, manifest.Database.File) };
                    Set(database!, "ConnectionString", builder.ConnectionString, changes, "Database:");
                }

                if (changes.Count > 0)
                {
                    // Rewritten only when a setting changed: a file that already names the restored parts stays as it was.
                    await File.WriteAllTextAsync(configuration, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);
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
                var root = new JsonObject();
                Set(root, "DataDirectory", manifest.DataDirectory, changes);
                Set(root, "PoliciesDirectory", manifest.PoliciesDirectory, changes);
                await File.WriteAllTextAsync(configuration, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(configuration, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }

            // The restored configuration loads and names the restored parts.
            var loaded = MiniCaConfiguration.LoadFrom(configuration, target, []);
            var expected = Path.Combine(target, manifest.DataDirectory);
            if (!string.Equals(Path.GetFullPath(loaded.Options.DataDirectory), Path.GetFullPath(expected), StringComparison.Ordinal))
            {
                throw new CaException(CaErrorKind.Configuration, $"the restored configuration names the data folder {loaded.Options.DataDirectory}, not {expected}");
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

    /// <summary>The member named <paramref name="name"/> in any case (configuration keys are case-insensitive).</summary>
    private static KeyValuePair<string, JsonNode?>? Find(JsonObject node, string name)
    {
        foreach (var member in node)
        {
            if (string.Equals(member.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return member;
            }
        }

        return null;
    }

    private static JsonObject? Child(JsonObject node, string name) => Find(node, name)?.Value as JsonObject;

    /// <summary>
    /// Sets <paramref name="name"/> (under its spelling in the file, if there) to <paramref name="value"/>, noting the
    /// change; nothing when it has that value already, or is absent and <paramref name="byDefault"/> is that value.
    /// </summary>
    private static void Set(JsonObject node, string name, string value, List<string> changes, string prefix = "", string? byDefault = null)
    {
        var existing = Find(node, name);
        var same = existing is { } found
            ? found.Value is JsonValue current && current.TryGetValue<string>(out var text) && text == value
            : byDefault == value;
        if (same)
        {
            return;
        }

        node[existing?.Key ?? name] = value;
        changes.Add($"{prefix}{name}: {value}");
    }
}
