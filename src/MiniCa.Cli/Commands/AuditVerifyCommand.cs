using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data.Queries;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica audit verify [--anchor ID:HASH]...</c>: runs the audit log's hash chain (<see cref="AuditChain"/>) over
/// the stored log, checks the anchors taken earlier, and prints the anchor to keep now. Exit 1 when the log no
/// longer matches an anchor: an event up to it was changed, removed or inserted.
/// </summary>
internal sealed class AuditVerifyCommand : AsyncCommand<AuditVerifyCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--anchor <ID:HASH>")]
        [Description("An anchor printed by an earlier run (repeatable): the log must still hash to HASH up to event ID.")]
        public string[] Anchors { get; init; } = [];

        [CommandOption("--settled-for <SECONDS>")]
        [Description("How old the newest event in the printed anchor must be (default 300: on PostgreSQL a transaction may commit after a later id).")]
        [DefaultValue(300)]
        public int SettledFor { get; init; } = 300;

        public override ValidationResult Validate()
        {
            if (SettledFor is < 0 or > 31_536_000)
            {
                return ValidationResult.Error($"--settled-for {SettledFor} is out of range (0..31536000).");
            }

            var bad = Anchors.FirstOrDefault(a => AuditAnchor.Parse(a) is null);
            return bad is null
                ? ValidationResult.Success()
                : ValidationResult.Error($"--anchor '{bad}' is not ID:HASH (a decimal event id, a colon and 64 hex digits, as `minica audit verify` prints it).");
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var queries = ActivatorUtilities.CreateInstance<PortalQueries>(services);
        var anchors = settings.Anchors.Select(a => AuditAnchor.Parse(a)!).ToList();
        var settledBefore = services.GetRequiredService<TimeProvider>().GetUtcNow().AddSeconds(-settings.SettledFor);
        var report = await queries.CheckAuditChainAsync(anchors, settledBefore, cancellationToken: cancellationToken);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Audit log: {report.Events:N0} event(s), chained in id order (audit chain v1)."));
        foreach (var check in report.Anchors.Where(c => c.Holds))
        {
            Console.WriteLine($"Anchor {check.Anchor} holds: nothing up to event {check.Anchor.EventId.ToString(CultureInfo.InvariantCulture)} changed.");
        }

        if (report.Head is { } head)
        {
            var newer = report.NewerEvents == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; {report.NewerEvents:N0} newer event(s) not in it yet");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Head: event {head.EventId} of {report.HeadAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (written {settings.SettledFor} s or more ago{newer})."));
            Console.WriteLine($"Anchor: {head}");
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"No anchor yet: no event was written {settings.SettledFor} s or more ago."));
        }

        if (report.Anchors.FirstOrDefault(c => !c.Holds) is { } broken)
        {
            var more = report.Anchors.Count(c => !c.Holds) - 1;
            throw new CaException(CaErrorKind.InvalidState, $"The audit log does not match anchor {broken.Anchor}: {broken.Problem}{(more > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({more} more anchor(s) do not match)") : string.Empty)}.");
        }

        return 0;
    }
}
