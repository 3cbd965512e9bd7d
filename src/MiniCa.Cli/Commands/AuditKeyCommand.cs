using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Keys;
using MiniCa.Hosting;
using Org.BouncyCastle.Asn1;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica audit key [--out FILE]</c>: the public halves of the HSM's audit keys (PEM blocks, oldest first; the one
/// the last recorded <c>minica audit rotate-key</c> brought in signs now), which sign the anchors
/// stored in the audit log, for an auditor who checks them apart from the CA's HSM (<c>minica audit verify
/// --audit-key</c>, or OpenSSL over the bytes the README lays out).
/// </summary>
internal sealed class AuditKeyCommand : AsyncCommand<AuditKeyCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Write the PEM public keys to FILE instead of the standard output.")]
        public string? Out { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        // Oldest first: a rotated log needs the keys that signed its older anchors too.
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var integrity = services.GetRequiredService<AuditLogIntegrity>();
        var keys = integrity.PublicKeys();
        var signing = await integrity.SigningKeyNameAsync(cancellationToken);
        var unrecorded = await integrity.UnrecordedKeyNamesAsync(cancellationToken);
        var pem = string.Concat(keys.Select(k => System.Security.Cryptography.PemEncoding.WriteString("PUBLIC KEY", k.PublicKey.GetEncoded(Asn1Encodable.Der)) + "\n"));
        var line = keys.Count == 1
            ? $"Audit key '{keys[0].Name}': SHA-256 of its SubjectPublicKeyInfo {PublicKeyFingerprint.Sha256(keys[0].PublicKey)}."
            : $"Audit keys, oldest first ('{signing}' signs now): {string.Join(", ", keys.Select(k => $"'{k.Name}' SHA-256 {PublicKeyFingerprint.Sha256(k.PublicKey)}" + (unrecorded.Contains(k.Name) ? " (no recorded rotation brought it in: it never signs)" : string.Empty)))}.";
        if (settings.Out is { } file)
        {
            await File.WriteAllTextAsync(file, pem, cancellationToken);
            Console.WriteLine($"{line} Written to {file}.");
        }
        else
        {
            Console.Write(pem);
            await Console.Error.WriteLineAsync(line);
        }

        return 0;
    }
}
