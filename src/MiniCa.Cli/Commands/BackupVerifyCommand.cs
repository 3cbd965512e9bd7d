using System.ComponentModel;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica backup verify DIR [--anchor ID:HASH]... [--restore-into DATABASE]</c>: whether a backup would bring the CA back
/// (<see cref="CaBackupCheck"/>), without starting it and without changing the backup. Exit 1 when a part fails.
/// </summary>
internal sealed class BackupVerifyCommand : AsyncCommand<BackupVerifyCommand.Settings>
{
    internal class Settings : CommandSettings
    {
        [CommandArgument(0, "<DIR>")]
        [Description("The backup's folder, as `minica backup --out` wrote it.")]
        public string Directory { get; init; } = string.Empty;

        [CommandOption("--anchor <ID:HASH>")]
        [Description("An anchor of the audit log kept elsewhere (repeatable): the backup's log must still hash to HASH up to event ID.")]
        public string[] Anchors { get; init; } = [];

        [CommandOption("--restore-into <DATABASE>")]
        [Description("For a backup of a CA on PostgreSQL: an empty database on the CA's server (same user) to restore the dump into, so its rows and audit log are checked too; it is left restored.")]
        public string? RestoreInto { get; init; }

        public override ValidationResult Validate() =>
            RestoreInto is { } name && string.IsNullOrWhiteSpace(name)
                ? ValidationResult.Error("--restore-into names an empty database on the CA's server.")
                : AuditVerifyCommand.ValidateAnchors(Anchors);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var report = await CaBackupCheck.RunAsync(settings.Directory, new BackupCheckOptions(settings.Anchors.Select(a => AuditAnchor.Parse(a)!).ToList(), settings.RestoreInto), cancellationToken);
        Print(report, "checked on a scratch copy (the backup is left as it is)", "it would not bring this CA back as it is");
        Console.WriteLine("The backup is good: a CA started on it is this CA.");
        return 0;
    }

    /// <summary>Prints each part of the check; throws naming the parts that failed, ending with <paramref name="consequence"/>.</summary>
    internal static void Print(BackupCheckReport report, string how, string consequence)
    {
        Console.WriteLine($"Backup {report.Directory}, made {report.Manifest.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({report.Manifest.Format}), {how}:");
        foreach (var item in report.Items)
        {
            Console.WriteLine($"{(item.Passed ? "ok" : "FAILED"),-6} {item.Part}: {item.Detail}");
        }

        if (!report.Passed)
        {
            var failed = report.Items.Where(i => !i.Passed).Select(i => i.Part).ToList();
            throw new CaException(CaErrorKind.InvalidState, $"The backup in {report.Directory} fails {failed.Count} of {report.Items.Count} checks ({string.Join(", ", failed)}): {consequence}.");
        }
    }
}
