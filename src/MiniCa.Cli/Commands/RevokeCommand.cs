using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Errors;
using MiniCa.Core.Revocation;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary><c>minica revoke --serial HEX --reason NAME [--invalidity-date TIME]</c>, then a fresh CRL.</summary>
internal sealed class RevokeCommand : AsyncCommand<RevokeCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--serial <HEX>")]
        [Description("The certificate's serial number in hex (colons allowed).")]
        public string Serial { get; init; } = string.Empty;

        [CommandOption("--reason <NAME>")]
        [Description("RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn (certificateHold only where the profile allows it).")]
        public string Reason { get; init; } = string.Empty;

        [CommandOption("--invalidity-date <TIME>")]
        [Description("Since when the key is known or suspected to be compromised (ISO 8601, UTC).")]
        public string? InvalidityDate { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Serial) ? ValidationResult.Error("--serial HEX is required.")
            : string.IsNullOrWhiteSpace(Reason) ? ValidationResult.Error($"--reason NAME is required ({string.Join(", ", RevocationReasons.Names)}).")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        DateTimeOffset? invalidity = null;
        if (settings.InvalidityDate is { } text)
        {
            invalidity = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw new CaException(CaErrorKind.Malformed, $"--invalidity-date '{text}' is not a time such as 2026-11-28T10:00:00Z.");
        }

        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareSigningAsync(cancellationToken);
        var all = await services.GetRequiredService<RevocationService>().RevokeWithKeyAsync(settings.Serial, settings.Reason, invalidity, "cli:" + Environment.UserName, cancellationToken);
        var revoked = all[0];
        if (revoked.RevocationReason == "keyCompromise")
        {
            Console.WriteLine($"Key of {revoked.SerialHex} blocked: no certificate will be issued for it again.");
        }

        foreach (var other in all.Skip(1))
        {
            Console.WriteLine($"Also revoked {other.SerialHex} ({other.Subject}): a certificate of the same key.");
        }

        // This process holds the HSM, so the CRL is regenerated at once rather than by the next web host refresh.
        var crl = await services.GetRequiredService<CrlService>().GenerateAsync(revoked.IssuerName, "cli:" + Environment.UserName, cancellationToken);
        Console.WriteLine($"Revoked {revoked.SerialHex} ({revoked.RevocationReason}); CRL {crl.Number} of '{crl.Authority}' lists {crl.Entries} certificate(s).");
        return 0;
    }
}
