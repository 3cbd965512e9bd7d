using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica audit sign</c>: signs the audit chain's settled head with the HSM's audit key and stores it in the audit
/// log (<see cref="AuditLogIntegrity.SignAsync"/>), as the web host does at each anchor it logs; for a CA run without
/// the web host, or an anchor wanted now.
/// </summary>
internal sealed class AuditSignCommand : AsyncCommand<AuditSignCommand.Settings>
{
    internal sealed class Settings : AuditSettings;

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var integrity = services.GetRequiredService<AuditLogIntegrity>();
        var settledBefore = services.GetRequiredService<TimeProvider>().GetUtcNow().AddSeconds(-settings.SettledFor);
        var check = await integrity.CheckAsync([], settledBefore, cancellationToken: cancellationToken);
        AuditVerifyCommand.PrintHead(check.Chain, settings.SettledFor);
        if (check.SignedAnchors.Count(c => !c.Holds) is > 0 and var broken)
        {
            // Signed all the same, as the web host does: the anchors that fail keep the evidence.
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Warning: the log does not match {broken} signed anchor(s) stored in it; `minica audit verify` says how."));
        }

        if (check.Chain.Head is not { } head)
        {
            return 0;
        }

        var signed = await integrity.SignAsync(head, cancellationToken);
        Console.WriteLine(signed is null
            ? string.Create(CultureInfo.InvariantCulture, $"Nothing new to sign: up to event {head.EventId}, only signed anchors were written after the newest signed anchor.")
            : $"Signed anchor {signed.Anchor} with the HSM's key '{signed.KeyName}' (SHA-256 {signed.KeySha256}) and stored it in the audit log ({SignedAuditAnchor.Action}).");
        return 0;
    }
}
