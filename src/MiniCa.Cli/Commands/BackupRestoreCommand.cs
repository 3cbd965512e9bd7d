using System.ComponentModel;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica backup restore DIR --to FOLDER [--anchor ID:HASH]... [--restore-into DATABASE]</c>: the backup checked as
/// <c>backup verify</c> checks it and, when every part passes, copied into a new folder the CA starts from
/// (<see cref="CaRestore"/>). Exit 1 with nothing written when a part fails.
/// </summary>
internal sealed class BackupRestoreCommand : AsyncCommand<BackupRestoreCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<DIR>")]
        [Description("The backup's folder, as `minica backup --out` wrote it.")]
        public string Directory { get; init; } = string.Empty;

        [CommandOption("--to <FOLDER>")]
        [Description("A new (or empty) folder to restore the CA into; never one that holds anything.")]
        public string? To { get; init; }

        [CommandOption("--anchor <ID:HASH>")]
        [Description("An anchor of the audit log kept elsewhere (repeatable): the backup's log must still hash to HASH up to event ID.")]
        public string[] Anchors { get; init; } = [];

        [CommandOption("--restore-into <DATABASE>")]
        [Description("For a backup of a CA on PostgreSQL (required there): an empty database on the CA's server (same user) to restore the dump into; the restored configuration names it.")]
        public string? RestoreInto { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(To) ? ValidationResult.Error("--to FOLDER names the new folder to restore the CA into.")
            : RestoreInto is { } name && string.IsNullOrWhiteSpace(name) ? ValidationResult.Error("--restore-into names an empty database on the CA's server.")
            : AuditVerifyCommand.ValidateAnchors(Anchors);
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var report = await CaRestore.RunAsync(settings.Directory, settings.To!, new BackupCheckOptions(settings.Anchors.Select(a => AuditAnchor.Parse(a)!).ToList(), settings.RestoreInto), cancellationToken);
        var check = report.Check;
        Console.WriteLine($"Backup {check.Directory}, made {check.Manifest.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({check.Manifest.Format}), checked first:");
        foreach (var item in check.Items)
        {
            Console.WriteLine($"{(item.Passed ? "ok" : "FAILED"),-6} {item.Part}: {item.Detail}");
        }

        if (report.Target is not { } target)
        {
            var failed = check.Items.Where(i => !i.Passed).Select(i => i.Part).ToList();
            throw new CaException(CaErrorKind.InvalidState, $"The backup in {check.Directory} fails {failed.Count} of {check.Items.Count} checks ({string.Join(", ", failed)}): nothing was restored.");
        }

        Console.WriteLine($"Restored into {target} (folders 0700, files 0600; the backup is left as it is).");
        var configName = report.ConfigurationFile is { } file ? Path.GetFileName(file) : "configuration";
        foreach (var change in report.Changes)
        {
            Console.WriteLine($"  {configName}: {change}");
        }

        Console.WriteLine(report.ConfigurationFile is { } config
            ? $"Start it with --config {config} (or from {target}); stop the CA it came from first if it still runs: both would sign as the same CA."
            : $"Start it from {target} (the built-in defaults find its data and profiles); stop the CA it came from first if it still runs: both would sign as the same CA.");
        return 0;
    }
}
