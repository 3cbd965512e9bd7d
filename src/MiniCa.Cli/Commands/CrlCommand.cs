using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Hosting;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary><c>minica crl [--ca NAME] [--out FILE]</c>: generate CRLs now.</summary>
internal sealed class CrlCommand : AsyncCommand<CrlCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--ca <NAME>")]
        [Description("The authority whose CRL to generate (default: the issuing authority; 'all' for every one).")]
        public string? Authority { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Also write the DER CRL here (one authority only).")]
        public string? Out { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        var options = services.GetRequiredService<CaOptions>();
        await services.GetRequiredService<CaBootstrapper>().PrepareSigningAsync(cancellationToken);
        var names = settings.Authority == "all" ? options.Authorities.Keys.ToList() : [settings.Authority ?? options.IssuingAuthority];
        if (settings.Out is not null && names.Count != 1)
        {
            throw new CaException(CaErrorKind.Malformed, "--out writes one CRL; name one authority with --ca.");
        }

        foreach (var name in names)
        {
            if (!options.Authorities.ContainsKey(name))
            {
                throw new CaException(CaErrorKind.NotFound, $"There is no authority '{name}'; authorities: {string.Join(", ", options.Authorities.Keys)}.");
            }

            var crl = await services.GetRequiredService<CrlService>().GenerateAsync(name, "cli:" + Environment.UserName, cancellationToken);
            if (settings.Out is not null)
            {
                await File.WriteAllBytesAsync(settings.Out, crl.Der, cancellationToken);
            }

            Console.WriteLine($"CRL {crl.Number} of '{name}': {crl.Entries} revoked certificate(s), next update {crl.NextUpdate.UtcDateTime:u}" + (settings.Out is null ? string.Empty : $", written to {settings.Out}"));
        }

        return 0;
    }
}
