using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Issuance;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica issue --csr FILE --profile NAME [--out FILE]</c>: the issuance pipeline from the command line. It first
/// settles the issuances a stop or a crash cut short (<see cref="InterruptedIssuances"/>), as <c>minica requests</c> does.
/// </summary>
internal sealed class IssueCommand : AsyncCommand<IssueCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--csr <FILE>")]
        [Description("The PKCS#10 request, PEM or DER.")]
        public string Csr { get; init; } = string.Empty;

        [CommandOption("--profile <NAME>")]
        [Description("The certificate profile (a file in policies/).")]
        public string Profile { get; init; } = string.Empty;

        [CommandOption("--out <FILE>")]
        [Description("Where to write the certificate chain (PEM); standard output when absent.")]
        public string? Out { get; init; }

        [CommandOption("--days <N>")]
        [Description("Validity in days (at most the profile's maximum).")]
        public int? Days { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Csr))
            {
                return ValidationResult.Error("--csr FILE is required.");
            }

            return string.IsNullOrWhiteSpace(Profile) ? ValidationResult.Error("--profile NAME is required.") : ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        byte[] csr;
        try
        {
            csr = await File.ReadAllBytesAsync(settings.Csr, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CaException(CaErrorKind.Malformed, $"Cannot read the CSR file {settings.Csr}: {ex.Message}");
        }

        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareSigningAsync(cancellationToken);
        // As `minica requests` and the web host do: a CA run only through the CLI settles the issuances a stop or a
        // crash cut short, so that their requests do not stay approved for ever.
        await ActivatorUtilities.CreateInstance<InterruptedIssuances>(services).SettleOnceAsync(cancellationToken);
        var outcome = await services.GetRequiredService<IssuanceService>().SubmitAsync(
            new IssuanceSubmission
            {
                Csr = csr,
                Profile = settings.Profile,
                Requester = "cli:" + Environment.UserName,
                Source = "cli",
                ValidityDays = settings.Days,
            },
            cancellationToken);

        switch (outcome.Status)
        {
            case RequestStatus.Issued:
                // The chain up to (not including) the root, which relying parties must already trust.
                var chain = CertificateFormats.ToPemChain(await AuthorityChain.BuildAsync(services.GetRequiredService<IAuthorityReader>(), outcome.Certificate!,
                    services.GetRequiredService<CaOptions>().IssuingAuthority, includeRoot: false, cancellationToken: cancellationToken));
                if (settings.Out is null)
                {
                    Console.Out.Write(chain);
                }
                else
                {
                    await File.WriteAllTextAsync(settings.Out, chain, cancellationToken);
                }

                foreach (var warning in outcome.Warnings)
                {
                    Console.Error.WriteLine("minica: warning: " + warning);
                }

                Console.Error.WriteLine($"minica: request {outcome.RequestId} issued: serial {outcome.SerialHex}" + (settings.Out is null ? string.Empty : $", written to {settings.Out}"));
                return 0;
            case RequestStatus.Pending:
                AnsiConsole.MarkupLine($"Request [bold]{outcome.RequestId}[/] is pending: profile '{Markup.Escape(settings.Profile)}' needs {outcome.ApprovalsNeeded} officer approval(s).");
                return 0;
            default:
                Console.Error.WriteLine($"minica: error: request {outcome.RequestId} {outcome.Status.ToString().ToLowerInvariant()}: {string.Join("; ", outcome.Problems)}");
                return 1;
        }
    }
}
