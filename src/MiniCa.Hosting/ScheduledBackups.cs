using System.Globalization;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Errors;
using MiniCa.Hsm;

namespace MiniCa.Hosting;

/// <summary>What the scheduled backups have done, for the metrics.</summary>
/// <param name="LastSuccessAt">When the newest complete backup in the folder was made (read from its manifest at start).</param>
/// <param name="LastFailureAt">When a scheduled backup last failed, since the host started.</param>
/// <param name="Kept">Complete scheduled backups in the folder.</param>
public sealed record BackupState(DateTimeOffset? LastSuccessAt, DateTimeOffset? LastFailureAt, int Kept);

/// <summary>
/// The web host's scheduled backups (<c>Backup:Directory</c>): each pass (at start, then every
/// <c>Backup:IntervalMinutes</c>, at most every 10 minutes) makes a backup as <c>minica backup</c> does, into
/// <c>minica-YYYYMMDDTHHMMSSZ</c>, when the newest complete one in the folder is <c>IntervalMinutes</c> old or there is
/// none, so a restart does not make one more. Then the oldest beyond <c>Backup:Keep</c> are removed. Only folders this
/// names and whose manifest reads are counted or removed; a failed attempt's folder is removed, logged as an error,
/// and the next pass tries again.
/// </summary>
public sealed class ScheduledBackups(LoadedConfiguration configuration, TimeProvider time, ILogger<ScheduledBackups> logger) : PeriodicPass(time, logger)
{
    /// <summary>How every scheduled backup's folder name starts.</summary>
    public const string Prefix = "minica-";

    private BackupState _state = new(null, null, 0);
    private bool _announced;

    /// <summary>What the backups have done so far.</summary>
    public BackupState State => Volatile.Read(ref _state);

    private TimeSpan Every => TimeSpan.FromMinutes(configuration.Options.Backup.IntervalMinutes);

    /// <summary>One pass: a backup when one is due, then the oldest beyond <c>Backup:Keep</c> removed.</summary>
    /// <returns>The backup made, or <see langword="null"/> when none was due or it failed.</returns>
    public async Task<string?> BackUpIfDueAsync(CancellationToken cancellationToken = default)
    {
        var folder = configuration.Options.Backup.Directory ?? throw new InvalidOperationException("Backup:Directory is not set.");
        var now = Time.GetUtcNow();
        var existing = Complete(folder);
        if (existing.Count > 0)
        {
            Volatile.Write(ref _state, State with { LastSuccessAt = existing[^1].CreatedAt, Kept = existing.Count });
        }

        if (existing.Count > 0 && now - existing[^1].CreatedAt < Every)
        {
            var newest = existing[^1];
            if (!_announced)
            {
                // Once, at start: the passes in between say nothing.
                Logger.LogInformation("Scheduled backups: the newest, {Backup}, was made {At:yyyy-MM-dd HH:mm:ss} UTC; the next is due at {Due:yyyy-MM-dd HH:mm:ss} UTC", newest.Path, newest.CreatedAt.UtcDateTime, (newest.CreatedAt + Every).UtcDateTime);
                _announced = true;
            }

            return null;
        }

        var target = NewFolder(folder, now);
        BackupSummary made;
        try
        {
            EmbeddedSoftHsm.CreatePrivateDirectory(folder);
            made = await CaBackup.CreateAsync(configuration, target, cancellationToken);
        }
        catch (Exception ex) when (ex is CaException or IOException or UnauthorizedAccessException)
        {
            Volatile.Write(ref _state, State with { LastFailureAt = Time.GetUtcNow() });
            Logger.LogError("Scheduled backup into {Target} failed: {Reason} The next pass tries again", target, ex.Message);
            RemoveIncomplete(target);
            return null;
        }

        Logger.LogInformation(
            "Scheduled backup {Target}: {Authorities} authorities, {Certificates} certificates, {Files} files; `minica backup verify {Target}` checks it",
            target, made.Authorities, made.Certificates, made.Files, target);
        var kept = Complete(folder);
        foreach (var old in kept.Take(Math.Max(0, kept.Count - configuration.Options.Backup.Keep)))
        {
            try
            {
                Directory.Delete(old.Path, recursive: true);
                Logger.LogInformation("Scheduled backups: removed {Backup} (made {At:yyyy-MM-dd HH:mm:ss} UTC), beyond the {Keep} kept", old.Path, old.CreatedAt.UtcDateTime, configuration.Options.Backup.Keep);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Logger.LogWarning("Scheduled backups: could not remove {Backup}: {Reason}", old.Path, ex.Message);
            }
        }

        Volatile.Write(ref _state, State with { LastSuccessAt = BackupManifest.Read(target).CreatedAt, Kept = Complete(folder).Count });
        return target;
    }

    /// <summary>The complete scheduled backups in <paramref name="folder"/> (a name of ours, a manifest that reads), oldest first.</summary>
    private static List<(string Path, DateTimeOffset CreatedAt)> Complete(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var complete = new List<(string Path, DateTimeOffset CreatedAt)>();
        foreach (var candidate in Directory.EnumerateDirectories(folder, Prefix + "*"))
        {
            try
            {
                complete.Add((candidate, BackupManifest.Read(candidate).CreatedAt));
            }
            catch (CaException)
            {
                // Not complete (being written by another host, or a copy cut short): neither counted nor removed.
            }
        }

        return complete.OrderBy(b => b.CreatedAt).ThenBy(b => b.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>A new folder's name for a backup made at <paramref name="now"/>, made unique with a suffix if needed.</summary>
    private static string NewFolder(string folder, DateTimeOffset now)
    {
        var name = Prefix + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var target = Path.Combine(folder, name);
        for (var n = 2; Directory.Exists(target); n++)
        {
            target = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{name}-{n}"));
        }

        return target;
    }

    /// <summary>Removes what a failed backup left in its own new folder (never a folder with a manifest).</summary>
    private void RemoveIncomplete(string target)
    {
        try
        {
            if (Directory.Exists(target) && !File.Exists(Path.Combine(target, BackupManifest.FileName)))
            {
                Directory.Delete(target, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Logger.LogWarning("Scheduled backups: could not remove the incomplete {Target}: {Reason}", target, ex.Message);
        }
    }

    /// <inheritdoc />
    protected override TimeSpan? Interval => configuration.Options.Backup.Directory is null
        ? null
        : TimeSpan.FromMinutes(Math.Min(configuration.Options.Backup.IntervalMinutes, 10));

    /// <inheritdoc />
    protected override string Purpose => "make a scheduled backup";

    /// <inheritdoc />
    protected override Task RunPassAsync(CancellationToken cancellationToken) => BackUpIfDueAsync(cancellationToken);
}
