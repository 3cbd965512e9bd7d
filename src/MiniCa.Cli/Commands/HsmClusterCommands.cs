using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>Options of the cluster commands that act on one member.</summary>
internal sealed class MemberSettings : CommandSettings
{
    [CommandOption("--config <PATH>")]
    [Description("Configuration file (default: ./ca.config.json, or MINICA_CONFIG).")]
    public string? Config { get; init; }

    [CommandArgument(0, "<NAME>")]
    [Description("The member's name in Hsm:Members.")]
    public string Name { get; init; } = string.Empty;
}

/// <summary>Options of <c>minica hsm sync</c>.</summary>
internal sealed class SyncSettings : CommandSettings
{
    [CommandOption("--config <PATH>")]
    [Description("Configuration file (default: ./ca.config.json, or MINICA_CONFIG).")]
    public string? Config { get; init; }

    [CommandOption("--repair")]
    [Description("Copy missing keys to the members that lack them (a quorum operation).")]
    public bool Repair { get; init; }
}

/// <summary>
/// Exit codes of the cluster commands: 0 done (or no drift), 1 error, 3 waiting for the quorum,
/// 4 drift found (sync without --repair) or a key that could not be copied.
/// </summary>
internal static class ClusterExit
{
    internal const int WaitingForQuorum = 3;
    internal const int Drift = 4;

    internal static Task<int> ReportAsync(ClusterRun run) => Task.FromResult(Report(run));

    private static int Report(ClusterRun run)
    {
        var operation = run.Operation;
        if (!run.Executed)
        {
            AnsiConsole.MarkupLine(
                $"Quorum operation [bold]{Markup.Escape(operation.Title)}[/] waits for {operation.RequiredApprovals} administrator approval(s) " +
                $"({operation.Approvals.Count} so far, until {operation.ExpiresAt:yyyy-MM-dd HH:mm} UTC). Administrators approve it on the portal's HSM page; then run this command again.");
            return WaitingForQuorum;
        }

        var table = new Table().AddColumns("Key", "Outcome", "Detail");
        foreach (var result in run.Results)
        {
            table.AddRow(Markup.Escape(result.Label), Markup.Escape(result.Outcome), Markup.Escape(result.Detail));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Quorum operation [bold]{Markup.Escape(operation.Title)}[/] ran (approved by {Markup.Escape(string.Join(", ", operation.Approvals.Select(a => a.Approver)))}).");
        return run.Results.Any(r => r.Outcome is "failed" or "different") ? Drift : 0;
    }

    internal static string Actor => "cli:" + Environment.UserName;
}

/// <summary><c>minica hsm add-member NAME</c>: copy every CA key to a configured, empty member (quorum).</summary>
internal sealed class HsmAddMemberCommand : AsyncCommand<MemberSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, MemberSettings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var run = await services.GetRequiredService<ClusterOperations>().AddMemberAsync(settings.Name, ClusterExit.Actor, cancellationToken);
        return await ClusterExit.ReportAsync(run);
    }
}

/// <summary><c>minica hsm remove-member NAME</c>: destroy every CA key on a member so it can leave (quorum).</summary>
internal sealed class HsmRemoveMemberCommand : AsyncCommand<MemberSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, MemberSettings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var run = await services.GetRequiredService<ClusterOperations>().RemoveMemberAsync(settings.Name, ClusterExit.Actor, cancellationToken);
        var code = await ClusterExit.ReportAsync(run);
        if (run.Executed)
        {
            AnsiConsole.MarkupLine($"Member [bold]{Markup.Escape(settings.Name)}[/] holds no CA key now; remove it from Hsm:Members.");
        }

        return code;
    }
}

/// <summary><c>minica hsm sync [--repair]</c>: report key drift across members; repair (quorum) what can be.</summary>
internal sealed class HsmSyncCommand : AsyncCommand<SyncSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SyncSettings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var operations = services.GetRequiredService<ClusterOperations>();
        var drift = await operations.ReportAsync(cancellationToken);
        var table = new Table().AddColumns("Member", "Key", "State", "Detail");
        foreach (var entry in drift)
        {
            var state = entry.State == "ok" ? "[green]ok[/]" : $"[red]{Markup.Escape(entry.State)}[/]";
            table.AddRow(Markup.Escape(entry.Member), Markup.Escape(entry.Label), state, Markup.Escape(entry.Detail));
        }

        AnsiConsole.Write(table);
        var problems = drift.Count(d => d.State != "ok");
        AnsiConsole.MarkupLine(problems == 0 ? "No drift: every member holds every CA key with the same public key." : $"{problems} problem(s) found.");
        if (!settings.Repair || problems == 0)
        {
            return problems == 0 ? 0 : ClusterExit.Drift;
        }

        return await ClusterExit.ReportAsync(await operations.RepairAsync(ClusterExit.Actor, cancellationToken));
    }
}
