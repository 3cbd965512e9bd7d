using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Configuration;
using MiniCa.Hosting;
using MiniCa.Hsm;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary><c>minica init</c>: the key ceremony.</summary>
internal sealed class InitCommand : AsyncCommand<CaCommandSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CaCommandSettings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        var options = services.GetRequiredService<CaOptions>();
        var bootstrapper = services.GetRequiredService<CaBootstrapper>();
        var created = await bootstrapper.InitializeAsync(cancellationToken);

        var table = new Table().AddColumns("Authority", "Subject", "Issuer", "Serial", "Not after (UTC)", "Key");
        foreach (var authority in created)
        {
            table.AddRow(
                Markup.Escape(authority.Name),
                Markup.Escape(authority.Subject),
                Markup.Escape(authority.IssuerName),
                authority.SerialHex,
                authority.NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(authority.KeyUri));
        }

        AnsiConsole.MarkupLine("[green]CA initialised.[/] Keys were generated in the HSM; certificates are in " + Markup.Escape(bootstrapper.CertificateDirectory));
        AnsiConsole.Write(table);
        if (options.Hsm.IsEmbedded)
        {
            var paths = EmbeddedSoftHsm.PathsFor(options.DataDirectory);
            AnsiConsole.MarkupLine("Embedded HSM: token store " + Markup.Escape(paths.TokenDirectory) + ", PINs in " + Markup.Escape(Path.GetDirectoryName(paths.UserPinFile)!) + " (back them up with the store).");
        }

        return 0;
    }
}
