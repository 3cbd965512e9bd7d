using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica audit rotate-key</c>: replaces the audit key with a new one generated in the HSM
/// (<see cref="AuditLogIntegrity.RotateAsync"/>), records the rotation in the audit log, and signs the log's head with
/// the new key at once, so the rotation is covered by an anchor of the key it names.
/// </summary>
internal sealed class AuditRotateKeyCommand : AsyncCommand<AuditRotateKeyCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var integrity = services.GetRequiredService<AuditLogIntegrity>();
        var rotation = await integrity.RotateAsync(ClusterExit.Actor, cancellationToken);
        Console.WriteLine($"Audit key rotated: '{rotation.To}' (SHA-256 {rotation.ToSha256}) generated in the HSM replaces '{rotation.From}' (SHA-256 {rotation.FromSha256}), recorded in the audit log ({AuditKeyRotation.Action}). The old key stays in the HSM for the anchors it signed before.");

        // The head now, with the rotation's own event, signed with the new key.
        var check = await integrity.CheckAsync([], services.GetRequiredService<TimeProvider>().GetUtcNow(), cancellationToken: cancellationToken);
        if (check.Chain.Head is { } head && await integrity.SignAsync(head, cancellationToken) is { } signed)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Signed anchor {signed.Anchor} with '{signed.KeyName}' and stored it in the audit log: it covers the rotation."));
        }

        Console.WriteLine("Give auditors the keys again: `minica audit key` writes them all.");
        return 0;
    }
}
