using System.ComponentModel;
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
    internal sealed class Settings : BackupVerifyCommand.Settings
    {
        [CommandOption("--to <FOLDER>")]
        [Description("A new (or empty) folder to restore the CA into; never one that holds anything. A PostgreSQL backup needs --restore-into too: the database the restored configuration names.")]
        public string? To { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(To) ? ValidationResult.Error("--to FOLDER names the new folder to restore the CA into.") : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var report = await CaRestore.RunAsync(settings.Directory, settings.To!, new BackupCheckOptions(settings.Anchors.Select(a => AuditAnchor.Parse(a)!).ToList(), settings.RestoreInto), cancellationToken);
        BackupVerifyCommand.Print(report.Check, "checked first", "nothing was restored");
        var target = report.Target!;
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
