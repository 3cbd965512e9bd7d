using Microsoft.Extensions.DependencyInjection;
using MiniCa.Hsm;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary><c>minica hsm status</c>.</summary>
internal sealed class HsmStatusCommand : Command<CaCommandSettings>
{
    public override int Execute(CommandContext context, CaCommandSettings settings, CancellationToken cancellationToken)
    {
        using var services = CliContext.BuildServices();
        var status = services.GetRequiredService<HsmMember>().GetStatus();

        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("Member", Markup.Escape(status.Name));
        grid.AddRow("Module", Markup.Escape(status.ModulePath));
        grid.AddRow("Library", Markup.Escape($"{status.LibraryDescription} (PKCS#11 {status.CryptokiVersion})"));
        grid.AddRow("Token", Markup.Escape($"{status.TokenLabel} (serial {status.TokenSerial}, {status.TokenModel})"));
        grid.AddRow("Slot", status.SlotId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        grid.AddRow("Login", status.LoggedIn ? "[green]logged in as user[/]" : "[red]not logged in[/]");
        grid.AddRow("Sessions", $"{status.OpenSessions} open of {status.MaxSessions}");
        AnsiConsole.Write(grid);

        var slots = new Table().AddColumns("Slot", "Description", "Token", "Serial", "State");
        foreach (var slot in status.Slots)
        {
            slots.AddRow(
                slot.SlotId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(slot.Description),
                Markup.Escape(slot.TokenLabel ?? "-"),
                Markup.Escape(slot.TokenSerial ?? "-"),
                !slot.TokenPresent ? "empty" : slot.TokenInitialized ? "initialised" : "free");
        }

        AnsiConsole.Write(slots);
        return 0;
    }
}
