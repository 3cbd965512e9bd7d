using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica requests</c>: the most recent certificate requests. It first settles the issuances a stop or a crash cut
/// short, as the web host does every minute (<see cref="InterruptedIssuances"/>), so that a CA run only through the
/// CLI does not list their requests as approved for ever.
/// </summary>
internal sealed class RequestsCommand : AsyncCommand<RequestsCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--limit <N>")]
        [Description("How many requests to show (newest first).")]
        [DefaultValue(50)]
        public int Limit { get; init; } = 50;

        public override ValidationResult Validate() =>
            Limit is < 1 or > 10_000 ? ValidationResult.Error($"--limit {Limit} is out of range (1..10000).") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        await ActivatorUtilities.CreateInstance<InterruptedIssuances>(services).SettleOnceAsync(cancellationToken);
        var requests = await services.GetRequiredService<IIssuanceReader>().ListRequestsAsync(settings.Limit, cancellationToken);

        var table = new Table().AddColumns("Id", "Received (UTC)", "Profile", "Requester", "Status", "Identifiers", "Serial", "Reasons");
        foreach (var request in requests)
        {
            table.AddRow(
                request.Id.ToString(CultureInfo.InvariantCulture),
                request.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Markup.Escape(request.Profile),
                Markup.Escape(request.Requester),
                request.Status.ToString(),
                Markup.Escape(string.Join(", ", request.Identifiers)),
                request.CertificateSerial ?? "-",
                Markup.Escape(string.Join("; ", request.Problems)));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{requests.Count} request(s).");
        return 0;
    }
}
