using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Keys;
using MiniCa.Hosting;
using Org.BouncyCastle.Asn1;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica audit key [--out FILE]</c>: the public half of the HSM's audit key (PEM), which signs the anchors stored
/// in the audit log, for an auditor who checks them apart from the CA's HSM (<c>minica audit verify --audit-key</c>,
/// or OpenSSL over the bytes the README lays out).
/// </summary>
internal sealed class AuditKeyCommand : AsyncCommand<AuditKeyCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("Write the PEM public key to FILE instead of the standard output.")]
        public string? Out { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        var key = services.GetRequiredService<AuditLogIntegrity>().PublicKey();
        var pem = System.Security.Cryptography.PemEncoding.WriteString("PUBLIC KEY", key.GetEncoded(Asn1Encodable.Der)) + "\n";
        var line = $"Audit key '{AuditLogIntegrity.KeyName}': SHA-256 of its SubjectPublicKeyInfo {PublicKeyFingerprint.Sha256(key)}.";
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
