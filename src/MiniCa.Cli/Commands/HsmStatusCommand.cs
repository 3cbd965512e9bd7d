using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Hsm;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary><c>minica hsm status</c>: every cluster member's state and counters, then each live member's module, token and slots.</summary>
internal sealed class HsmStatusCommand : Command<CaCommandSettings>
{
    public override int Execute(CommandContext context, CaCommandSettings settings, CancellationToken cancellationToken)
    {
        using var services = CliContext.BuildServices();
        var cluster = services.GetRequiredService<HsmCluster>();

        var members = new Table().AddColumns("Member", "State", "Token", "Operations", "Failures", "Failovers", "Readmissions", "Lacks keys", "Last error");
        foreach (var member in cluster.GetStatus())
        {
            members.AddRow(
                Markup.Escape(member.Name),
                member.State == HsmMemberState.Up ? "[green]up[/]" : "[red]down[/]",
                Markup.Escape($"{member.TokenLabel} ({member.TokenSerial})"),
                member.Operations.ToString(CultureInfo.InvariantCulture),
                member.Failures.ToString(CultureInfo.InvariantCulture),
                member.Failovers.ToString(CultureInfo.InvariantCulture),
                member.Readmissions.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(member.AbsentKeys.Count == 0 ? "-" : string.Join(", ", member.AbsentKeys)),
                Markup.Escape(member.LastError ?? "-"));
        }

        AnsiConsole.Write(members);
        foreach (var member in cluster.Members.Where(m => m.State == HsmMemberState.Up))
        {
            var status = member.Connection.GetStatus();
            var grid = new Grid().AddColumn().AddColumn();
            grid.AddRow("Member", Markup.Escape(status.Name));
            grid.AddRow("Module", Markup.Escape(status.ModulePath));
            grid.AddRow("Library", Markup.Escape($"{status.LibraryDescription} (PKCS#11 {status.CryptokiVersion})"));
            grid.AddRow("Token", Markup.Escape($"{status.TokenLabel} (serial {status.TokenSerial}, {status.TokenModel})"));
            grid.AddRow("Slot", status.SlotId.ToString(CultureInfo.InvariantCulture));
            grid.AddRow("Login", status.LoggedIn ? "[green]logged in as user[/]" : "[red]not logged in[/]");
            grid.AddRow("Sessions", $"{status.OpenSessions} open of {status.MaxSessions}");
            AnsiConsole.Write(grid);

            var slots = new Table().AddColumns("Slot", "Description", "Token", "Serial", "State");
            foreach (var slot in status.Slots)
            {
                slots.AddRow(
                    slot.SlotId.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(slot.Description),
                    Markup.Escape(slot.TokenLabel ?? "-"),
                    Markup.Escape(slot.TokenSerial ?? "-"),
                    !slot.TokenPresent ? "empty" : slot.TokenInitialized ? "initialised" : "free");
            }

            AnsiConsole.Write(slots);
        }

        return cluster.Members.All(m => m.State == HsmMemberState.Up) ? 0 : 2;
    }
}
