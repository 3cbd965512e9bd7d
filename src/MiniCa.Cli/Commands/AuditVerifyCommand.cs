using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using Org.BouncyCastle.Asn1.X509;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica audit verify [--anchor ID:HASH]...</c>: runs the audit log's hash chain (<see cref="AuditChain"/>) over
/// the stored log, checks the anchors taken earlier and the signed anchors stored in the log
/// (<see cref="AuditLogIntegrity.CheckAsync"/>), and prints the anchor to keep now. Exit 1 when the log no longer
/// matches an anchor (an event up to it was changed, removed or inserted) or a signed anchor's signature fails.
/// </summary>
internal sealed partial class AuditVerifyCommand : AsyncCommand<AuditVerifyCommand.Settings>
{
    internal sealed class Settings : AuditSettings
    {
        [CommandOption("--anchor <ID:HASH>")]
        [Description("An anchor printed by an earlier run (repeatable): the log must still hash to HASH up to event ID.")]
        public string[] Anchors { get; init; } = [];

        [CommandOption("--audit-key <FILE>")]
        [Description("The audit keys' public keys (PEM blocks, or one in DER, as `minica audit key` writes them) to check signed anchors with, instead of the HSM's.")]
        public string? AuditKey { get; init; }

        public override ValidationResult Validate()
        {
            var settled = base.Validate();
            if (!settled.Successful)
            {
                return settled;
            }

            return ValidateAnchors(Anchors);
        }
    }

    /// <summary>Each <c>--anchor</c> is ID:HASH; the first that is not is named.</summary>
    internal static ValidationResult ValidateAnchors(IEnumerable<string> anchors)
    {
        var bad = anchors.FirstOrDefault(a => AuditAnchor.Parse(a) is null);
        return bad is null
            ? ValidationResult.Success()
            : ValidationResult.Error($"--anchor '{bad}' is not ID:HASH (a decimal event id, a colon and 64 hex digits, as `minica audit verify` prints it).");
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        var anchors = settings.Anchors.Select(a => AuditAnchor.Parse(a)!).ToList();
        var settledBefore = services.GetRequiredService<TimeProvider>().GetUtcNow().AddSeconds(-settings.SettledFor);
        // Read before the log: a bad file is said at once.
        var auditKeys = settings.AuditKey is { } file ? ReadKeys(file) : null;
        var check = await services.GetRequiredService<AuditLogIntegrity>().CheckAsync(anchors, settledBefore, auditKeys, cancellationToken);
        var report = check.Chain;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Audit log: {report.Events:N0} event(s), chained in id order (audit chain v1)."));
        foreach (var given in check.GivenAnchors.Where(c => c.Holds))
        {
            Console.WriteLine($"Anchor {given.Anchor} holds: nothing up to event {given.Anchor.EventId.ToString(CultureInfo.InvariantCulture)} changed.");
        }

        if (check.SignedAnchors.Count == 0)
        {
            Console.WriteLine("Signed anchors: none in the log yet (the web host signs one with the HSM's audit key at each anchor it logs; `minica audit sign` signs one now).");
        }
        else if (check.SignedAnchors.All(c => c.Holds))
        {
            var newest = check.NewestSigned!.Anchor!;
            var keysUsed = check.SigningKeys;
            var signedWith = keysUsed == 1
                ? (auditKeys is null ? "the HSM's key" : $"the key in {settings.AuditKey}, named") + $" '{newest.KeyName}' (SHA-256 {newest.KeySha256})"
                : string.Create(CultureInfo.InvariantCulture, $"{(auditKeys is null ? "the HSM's audit keys" : $"the keys in {settings.AuditKey}")} ({keysUsed} of them, the newest '{newest.KeyName}', SHA-256 {newest.KeySha256})");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Signed anchors: {check.SignedAnchors.Count:N0}, each signed with {signedWith} and held by the log; the newest covers it up to event {newest.Anchor.EventId} (signed {newest.SignedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, stored as event {check.NewestSigned.EventId})."));
        }

        foreach (var rotation in check.KeyRotations)
        {
            Console.WriteLine(rotation.Holds
                ? string.Create(CultureInfo.InvariantCulture, $"Audit key rotated in event {rotation.EventId}: '{rotation.Rotation!.From}' (SHA-256 {rotation.Rotation.FromSha256}) replaced by '{rotation.Rotation.To}' (SHA-256 {rotation.Rotation.ToSha256}), by {rotation.Rotation.By}.")
                : RotationProblem(rotation));
        }

        PrintHead(report, settings.SettledFor);
        if (check.GivenAnchors.FirstOrDefault(c => !c.Holds) is { } broken)
        {
            var more = check.GivenAnchors.Count(c => !c.Holds) - 1 + check.SignedAnchors.Count(c => !c.Holds);
            throw new CaException(CaErrorKind.InvalidState, $"The audit log does not match anchor {broken.Anchor}: {broken.Problem}{More(more)}.");
        }

        if (check.SignedAnchors.FirstOrDefault(c => !c.Holds) is { } unsigned)
        {
            var more = check.SignedAnchors.Count(c => !c.Holds) - 1;
            var what = unsigned.Anchor is { } a ? $"the signed anchor {a.Anchor} in event {unsigned.EventId.ToString(CultureInfo.InvariantCulture)}" : $"the signed anchor in event {unsigned.EventId.ToString(CultureInfo.InvariantCulture)}";
            throw new CaException(CaErrorKind.InvalidState, $"The audit log does not match {what}: {unsigned.Problem}{More(more)}.");
        }

        if (check.KeyRotations.FirstOrDefault(c => !c.Holds) is { } rotationProblem)
        {
            throw new CaException(CaErrorKind.InvalidState, RotationProblem(rotationProblem));
        }

        return 0;
    }

    private static string RotationProblem(AuditKeyRotationCheck rotation) =>
        string.Create(CultureInfo.InvariantCulture, $"The audit log's key rotation in event {rotation.EventId} does not hold: {rotation.Problem}.");

    /// <summary>The public keys in <paramref name="file"/>: each PEM block, or the one DER key.</summary>
    private static List<SubjectPublicKeyInfo> ReadKeys(string file)
    {
        if (!File.Exists(file))
        {
            throw new CaException(CaErrorKind.NotFound, $"--audit-key {file}: no such file.");
        }

        var content = File.ReadAllBytes(file);
        var text = Encoding.ASCII.GetString(content);
        var starts = content.Length > 0 && content[0] != 0x30 ? PemStart().Matches(text).Select(m => m.Index).ToList() : [];
        var parts = starts.Count <= 1
            ? [content]
            : starts.Select((start, i) => Encoding.ASCII.GetBytes(text[start..(i + 1 < starts.Count ? starts[i + 1] : text.Length)])).ToList();
        return parts.Select(part =>
        {
            var (key, kind) = PublicKeyFile.Read(part, file);
            return kind == "public key" ? key : throw new CaException(CaErrorKind.Malformed, $"--audit-key {file} holds a {kind}; give the audit keys' public keys, as `minica audit key` writes them.");
        }).ToList();
    }

    [GeneratedRegex("-----BEGIN ")]
    private static partial Regex PemStart();

    internal static void PrintHead(AuditChainReport report, int settledFor)
    {
        if (report.Head is { } head)
        {
            var newer = report.NewerEvents == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; {report.NewerEvents:N0} newer event(s) not in it yet");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Head: event {head.EventId} of {report.HeadAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (written {settledFor} s or more ago{newer})."));
            Console.WriteLine($"Anchor: {head}");
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"No anchor yet: no event was written {settledFor} s or more ago."));
        }
    }

    private static string More(int more) => more > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({more} more anchor(s) do not match)") : string.Empty;
}

/// <summary>The options of the <c>audit</c> commands.</summary>
internal class AuditSettings : CommandSettings
{
    [CommandOption("--config <PATH>")]
    [Description("Configuration file.")]
    public string? Config { get; init; }

    [CommandOption("--settled-for <SECONDS>")]
    [Description("How old the newest event in the anchor must be (default 300: on PostgreSQL a transaction may commit after a later id).")]
    [DefaultValue(300)]
    public int SettledFor { get; init; } = 300;

    public override ValidationResult Validate() => SettledFor is < 0 or > 31_536_000
        ? ValidationResult.Error($"--settled-for {SettledFor} is out of range (0..31536000).")
        : ValidationResult.Success();
}
