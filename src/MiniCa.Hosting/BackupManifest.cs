using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using MiniCa.Core.Errors;
using MiniCa.Data.Queries;

namespace MiniCa.Hosting;

/// <summary>One file of a backup.</summary>
/// <param name="Path">Its path inside the backup, with <c>/</c> between folders.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Sha256">SHA-256 of its bytes, lowercase hex.</param>
public sealed record BackupFile(string Path, long Bytes, string Sha256);

/// <summary>The backup's copy of the issuance database.</summary>
/// <param name="Provider"><c>Sqlite</c> (a database file) or <c>Postgres</c> (a pg_dump in custom format).</param>
/// <param name="File">The copy or the dump, inside the backup.</param>
/// <param name="Authorities">CA certificates it records.</param>
/// <param name="Certificates">Subscriber certificates it records.</param>
public sealed record BackupDatabase(string Provider, string File, long Authorities, long Certificates);

/// <summary>A blocked key list the configuration names (<c>BlockedKeyLists</c>), copied into the backup.</summary>
/// <param name="Configured">The file the CA read, as its configuration resolved it.</param>
/// <param name="File">The copy, inside the backup: at the same path relative to the configuration's folder when it
/// lay inside it, else under <c>blocked-key-lists/</c>.</param>
public sealed record BackupKeyList(string Configured, string File);

/// <summary>
/// <c>minica-backup.json</c>, written last into every backup: where its parts are, what its database records, the
/// authorities whose keys the HSM must hold, and the size and SHA-256 of every other file in it. A backup without
/// one is incomplete (the copy stopped before the end) or made before MiniCa wrote one. <c>minica backup verify</c>
/// checks a backup against it (<see cref="CaBackupCheck"/>).
/// </summary>
/// <param name="Format">The manifest's version: <see cref="CurrentFormat"/>.</param>
/// <param name="CreatedAt">When the backup was finished.</param>
/// <param name="ConfigurationFile">The configuration file's name in the backup's top folder; <see langword="null"/> for a CA on the built-in defaults.</param>
/// <param name="DataDirectory">The data folder inside the backup.</param>
/// <param name="PoliciesDirectory">The certificate profiles' folder inside the backup.</param>
/// <param name="EmbeddedHsm">Whether the backup holds the embedded token store and its PINs (otherwise the keys are in the configured HSM).</param>
/// <param name="Database">The database's copy.</param>
/// <param name="Authorities">The active authorities the database records.</param>
/// <param name="Files">Every file of the backup but this one.</param>
/// <param name="BlockedKeyLists">The blocked key lists, in the configuration's order (none in backups made before they were copied).</param>
public sealed partial record BackupManifest(
    string Format,
    DateTimeOffset CreatedAt,
    string? ConfigurationFile,
    string DataDirectory,
    string PoliciesDirectory,
    bool EmbeddedHsm,
    BackupDatabase Database,
    IReadOnlyList<RecordedAuthority> Authorities,
    IReadOnlyList<BackupFile> Files,
    IReadOnlyList<BackupKeyList>? BlockedKeyLists = null)
{
    /// <summary>The manifest's name in the backup's top folder.</summary>
    public const string FileName = "minica-backup.json";

    /// <summary>The version this build writes and reads.</summary>
    public const string CurrentFormat = "minica-backup/1";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Every file under <paramref name="root"/> but the manifest, in ordinal order of their paths.</summary>
    public static IReadOnlyList<BackupFile> Describe(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(file => RelativePath(root, file))
            .Where(path => path != FileName)
            .Order(StringComparer.Ordinal)
            .Select(path => DescribeFile(root, path))
            .ToList();
    }

    /// <summary>The size and SHA-256 of the file at <paramref name="path"/> (manifest form) under <paramref name="root"/>.</summary>
    public static BackupFile DescribeFile(string root, string path)
    {
        using var stream = File.OpenRead(System.IO.Path.Combine(root, path));
        var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new BackupFile(path, stream.Length, hash);
    }

    /// <summary><paramref name="file"/> relative to <paramref name="root"/>, in manifest form (<c>/</c> between folders).</summary>
    public static string RelativePath(string root, string file) =>
        System.IO.Path.GetRelativePath(root, file).Replace(System.IO.Path.DirectorySeparatorChar, '/');

    /// <summary>Writes the manifest into <paramref name="directory"/> (0600), flushed to disk.</summary>
    public void Write(string directory)
    {
        var path = System.IO.Path.Combine(directory, FileName);
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, this, Json);
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Reads and checks the manifest in <paramref name="directory"/>.</summary>
    /// <exception cref="CaException">There is none, or it is not one this build reads (the message names the field).</exception>
    public static BackupManifest Read(string directory)
    {
        var path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new CaException(
                CaErrorKind.NotFound,
                $"{directory} holds no {FileName}: it is not a complete backup (a backup writes it last, so the copy stopped before the end) or it was made before MiniCa wrote one; make a new backup with `minica backup`.");
        }

        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BackupManifest>(File.ReadAllBytes(path), Json);
        }
        catch (JsonException ex) when (MissingProperty().Match(ex.Message) is { Success: true } missing)
        {
            throw new CaException(CaErrorKind.Malformed, $"{path} is not a backup manifest: (field {missing.Groups[1].Value}) is missing.", ex);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}" : string.Empty;
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? string.Empty : $" (field {ex.Path[2..]})";
            throw new CaException(CaErrorKind.Malformed, $"{path} is not a backup manifest{where}{field}: {FirstSentence(ex.Message)}", ex);
        }

        if (manifest is null)
        {
            throw new CaException(CaErrorKind.Malformed, $"{path} is not a backup manifest: it holds null.");
        }

        var problems = manifest.Problems().ToList();
        return problems.Count == 0
            ? manifest
            : throw new CaException(CaErrorKind.Malformed, $"{path} is not a backup manifest this MiniCa reads: {string.Join("; ", problems)}.");
    }

    /// <summary>What makes the manifest unusable, each as <c>field: problem</c>.</summary>
    private IEnumerable<string> Problems()
    {
        if (Format != CurrentFormat)
        {
            yield return $"format: '{Format}' is not {CurrentFormat} (made by another version of MiniCa)";
            yield break;
        }

        foreach (var (field, path) in Paths())
        {
            if (!IsInside(path))
            {
                yield return $"{field}: '{path}' is not a relative path inside the backup";
            }
        }

        if (Database.Provider is not ("Sqlite" or "Postgres"))
        {
            yield return $"database.provider: '{Database.Provider}' is neither Sqlite nor Postgres";
        }

        if (Files.FirstOrDefault(f => f.Bytes < 0 || f.Sha256.Length != 64 || !f.Sha256.All(char.IsAsciiHexDigitLower)) is { } bad)
        {
            yield return $"files: '{bad.Path}' has no size and lowercase hex SHA-256";
        }

        if (Files.GroupBy(f => f.Path, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            yield return $"files: '{twice.Key}' is listed twice";
        }

        if (Files.All(f => f.Path != Database.File))
        {
            yield return $"database.file: '{Database.File}' is not among the files";
        }
    }

    private IEnumerable<(string Field, string Path)> Paths()
    {
        yield return ("dataDirectory", DataDirectory);
        yield return ("policiesDirectory", PoliciesDirectory);
        yield return ("database.file", Database.File);
        if (ConfigurationFile is not null)
        {
            yield return ("configurationFile", ConfigurationFile);
        }

        foreach (var file in Files)
        {
            yield return ("files", file.Path);
        }
    }

    /// <summary>Whether <paramref name="path"/> names something inside the backup: <c>.</c> (its top folder), or relative without <c>..</c> or empty parts.</summary>
    private static bool IsInside(string path) =>
        path == "." || path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\', StringComparison.Ordinal) && !path.Contains('\0', StringComparison.Ordinal)
        && path.Split('/').All(part => part is not ("" or "." or ".."));

    /// <summary>System.Text.Json's words for a required property that is absent (its path is then only <c>$</c>).</summary>
    [GeneratedRegex("missing required properties including: '([^']+)'")]
    private static partial Regex MissingProperty();

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }
}
