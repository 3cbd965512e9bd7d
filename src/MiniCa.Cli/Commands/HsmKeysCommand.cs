using Microsoft.Extensions.DependencyInjection;
using MiniCa.Hsm;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary><c>minica hsm keys</c>: every private key with the attributes that keep it in the HSM.</summary>
internal sealed class HsmKeysCommand : Command<CaCommandSettings>
{
    public override int Execute(CommandContext context, CaCommandSettings settings, CancellationToken cancellationToken)
    {
        using var services = CliContext.BuildServices();
        foreach (var member in services.GetRequiredService<HsmCluster>().Members)
        {
            if (member.State != HsmMemberState.Up)
            {
                AnsiConsole.MarkupLine($"[red]Member {Markup.Escape(member.Name)} is down[/]: {Markup.Escape(member.LastError ?? "not connected")}");
                continue;
            }

            var keys = member.Keys.ListKeys();
            var table = new Table().AddColumns("Key", "Type", "Security", "Usage", "URI");
            foreach (var key in keys)
            {
                table.AddRow(
                    Markup.Escape(key.Label),
                    key.KeyType,
                    Markup.Escape(Security(key)),
                    Markup.Escape(Usage(key)),
                    Markup.Escape(key.Uri));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{keys.Count} key(s) on token [bold]{Markup.Escape(member.Connection.TokenLabel)}[/] (member {Markup.Escape(member.Name)}).");
        }

        return 0;
    }

    private static string Security(HsmKeyInfo key) => string.Join(' ', new[]
    {
        key.Sensitive ? "sensitive" : "NOT-SENSITIVE",
        key.AlwaysSensitive ? "always-sensitive" : null,
        key.Extractable ? (key.WrapWithTrusted ? "extractable-only-under-trusted-key" : "EXTRACTABLE") : "not-extractable",
        key.NeverExtractable ? "never-extractable" : null,
        key.Local ? "generated-in-token" : "imported",
        key.Modifiable ? "MODIFIABLE" : "not-modifiable",
    }.Where(s => s is not null));

    private static string Usage(HsmKeyInfo key)
    {
        var uses = new[] { (key.Sign, "sign"), (key.Decrypt, "decrypt"), (key.Unwrap, "unwrap"), (key.Derive, "derive"), (key.SignRecover, "sign-recover") }
            .Where(u => u.Item1).Select(u => u.Item2).ToList();
        return uses.SequenceEqual(["sign"]) ? "sign only" : string.Join(',', uses);
    }
}
