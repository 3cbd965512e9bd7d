using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica blocked-keys add --file FILE</c>: blocks a key reported compromised (its certificate, CSR or public key),
/// revokes every unexpired certificate of it for keyCompromise, then publishes a fresh CRL.
/// </summary>
internal sealed class BlockedKeyAddCommand : AsyncCommand<BlockedKeyAddCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--file <PATH>")]
        [Description("A certificate, CSR or public key (PEM or DER) of the compromised key. For a private key: openssl pkey -in KEY -pubout.")]
        public string File { get; init; } = string.Empty;

        [CommandOption("--note <TEXT>")]
        [Description("How the compromise was reported, for the audit log.")]
        public string Note { get; init; } = "reported compromised";

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(File) ? ValidationResult.Error("--file PATH is required (a certificate, CSR or public key of the key).")
            : Note.Length > 1024 ? ValidationResult.Error("--note is longer than 1024 characters.")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!System.IO.File.Exists(settings.File))
        {
            throw new CaException(CaErrorKind.NotFound, $"--file {settings.File}: no such file.");
        }

        var (key, kind) = PublicKeyFile.Read(await System.IO.File.ReadAllBytesAsync(settings.File, cancellationToken), settings.File);
        await using var services = CliContext.BuildServices();
        var bootstrapper = services.GetRequiredService<CaBootstrapper>();
        await bootstrapper.PrepareDatabaseAsync(cancellationToken);
        var actor = "cli:" + Environment.UserName;
        var outcome = await services.GetRequiredService<RevocationService>().BlockKeyAsync(key, actor, $"{settings.Note} ({kind} {Path.GetFileName(settings.File)})", cancellationToken);
        Console.WriteLine(outcome.Added
            ? $"Blocked key {outcome.Block.PublicKeySha256} (SHA-256 of its SubjectPublicKeyInfo, from the {kind}): no certificate will be issued for it again."
            : $"Key {outcome.Block.PublicKeySha256} was blocked already ({outcome.Block.Source}, {outcome.Block.BlockedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}, by {outcome.Block.BlockedBy}).");
        foreach (var certificate in outcome.Revoked)
        {
            Console.WriteLine($"Revoked {certificate.SerialHex} ({certificate.Subject}) for keyCompromise.");
        }

        if (outcome.Revoked.Count > 0)
        {
            // The CRLs of the issuers concerned are published at once, as after minica revoke. The block and the
            // revocations are committed already: a CRL that cannot be signed now is said as such.
            try
            {
                await bootstrapper.PrepareSigningAsync(cancellationToken);
                foreach (var issuer in outcome.Revoked.Select(c => c.IssuerName).Distinct(StringComparer.Ordinal))
                {
                    var crl = await services.GetRequiredService<CrlService>().GenerateAsync(issuer, actor, cancellationToken);
                    Console.WriteLine($"CRL {crl.Number} of '{crl.Authority}' lists {crl.Entries} certificate(s).");
                }
            }
            catch (CaException ex)
            {
                throw new CaException(ex.Kind, $"The key is blocked and its certificates revoked, but no CRL could be published now ({ex.Message}); run 'minica crl' once the HSM answers (a running web host publishes one at its next refresh).", ex);
            }
        }
        else
        {
            Console.WriteLine("No unexpired certificate of this key was issued here.");
        }

        return 0;
    }
}

/// <summary><c>minica blocked-keys list</c>: the keys no certificate is issued for, most recent first.</summary>
internal sealed class BlockedKeyListCommand : AsyncCommand<BlockedKeyListCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--limit <N>")]
        [Description("How many to show (most recent first).")]
        [DefaultValue(100)]
        public int Limit { get; init; } = 100;

        public override ValidationResult Validate() =>
            Limit is < 1 or > 100_000 ? ValidationResult.Error($"--limit {Limit} is out of range (1..100000).") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var keys = await services.GetRequiredService<IIssuanceReader>().ListBlockedKeysAsync(settings.Limit, cancellationToken);
        var table = new Table().AddColumns("SPKI SHA-256", "Blocked (UTC)", "Reason", "Source", "By");
        foreach (var key in keys)
        {
            table.AddRow(
                key.PublicKeySha256,
                key.BlockedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                Markup.Escape(key.Reason),
                Markup.Escape(key.Source),
                Markup.Escape(key.BlockedBy));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{keys.Count} blocked key(s).");
        return 0;
    }
}

/// <summary>
/// <c>minica blocked-keys remove --key SHA256 --note TEXT</c>: lifts a block made by mistake, so that the key can be
/// certified again. The certificates revoked with it stay revoked.
/// </summary>
internal sealed class BlockedKeyRemoveCommand : AsyncCommand<BlockedKeyRemoveCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--key <SHA256>")]
        [Description("The key's SPKI SHA-256, as 'minica blocked-keys list' shows it.")]
        public string Key { get; init; } = string.Empty;

        [CommandOption("--note <TEXT>")]
        [Description("Why the block is lifted, for the audit log (required).")]
        public string Note { get; init; } = string.Empty;

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Key) ? ValidationResult.Error("--key SHA256 is required (see 'minica blocked-keys list').")
            : string.IsNullOrWhiteSpace(Note) ? ValidationResult.Error("--note TEXT is required: say why the block is lifted, for the audit log.")
            : Note.Length > 1024 ? ValidationResult.Error("--note is longer than 1024 characters.")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var lifted = await services.GetRequiredService<RevocationService>().UnblockKeyAsync(settings.Key, "cli:" + Environment.UserName, settings.Note, cancellationToken);
        Console.WriteLine($"Lifted the block of key {lifted.PublicKeySha256} ({lifted.Source}, blocked {lifted.BlockedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)} by {lifted.BlockedBy}): requests for it are accepted again.");
        Console.WriteLine("The certificates revoked with it stay revoked.");
        return 0;
    }
}
