using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Configuration;
using MiniCa.Core.Ledger;
using MiniCa.Data;
using MiniCa.Data.Queries;

namespace MiniCa.Hosting;

/// <summary>
/// At start and then every <c>Audit:AnchorLogMinutes</c>, logs the audit chain's anchor (<see cref="AuditChain"/>):
/// a log shipper that keeps the line outside the CA gives <c>minica audit verify --anchor</c> something to check the
/// stored log against later. The first pass, and one every <c>Audit:CheckHours</c>, runs the chain over the whole log
/// and logs an error for each signed anchor the log no longer matches; the others go on from the last anchor over the
/// events written since. A line is written only when the anchor moved. Each pass also signs the anchor with the HSM's
/// audit key and stores it in the log (<see cref="AuditLogIntegrity.SignAsync"/>), when events other than signed
/// anchors were written since the last one.
/// </summary>
public sealed class AuditAnchorLog(IDbContextFactory<MiniCaDbContext> contexts, AuditLogIntegrity integrity, CaOptions options, TimeProvider time, ILogger<AuditAnchorLog> logger) : PeriodicPass(time, logger)
{
    private readonly PortalQueries _queries = new(contexts);
    private AuditAnchor? _anchor;
    private AuditIntegrityState _state = new(null, 0, null);

    /// <summary>What the last full check found, and the newest signed anchor known (for the metrics).</summary>
    public AuditIntegrityState State => Volatile.Read(ref _state);

    /// <summary>One pass; returns the anchor now (<see langword="null"/> while no event is settled).</summary>
    public async Task<AuditAnchor?> LogOnceAsync(CancellationToken cancellationToken = default)
    {
        var settledBefore = Time.GetUtcNow().AddSeconds(-options.Audit.AnchorSettledSeconds);
        AuditChainReport report;
        var state = State;
        if (_anchor is null || (options.Audit.CheckHours > 0 && Time.GetUtcNow() - state.CheckedAt >= TimeSpan.FromHours(options.Audit.CheckHours)))
        {
            // The first pass reads the whole log anyway, and so does one every Audit:CheckHours: they check the signed
            // anchors in it too, and say so loudly when the log no longer matches one (signing goes on: the old
            // anchors keep the evidence).
            var check = await integrity.CheckAsync([], settledBefore, cancellationToken: cancellationToken);
            var failing = check.SignedAnchors.Where(c => !c.Holds).ToList();
            foreach (var broken in failing)
            {
                Logger.LogError("Audit log integrity: the log does not match the signed anchor in event {EventId}: {Problem}. `minica audit verify` says the same", broken.EventId, broken.Problem);
            }

            var badRotations = check.KeyRotations.Where(c => !c.Holds).ToList();
            foreach (var rotation in badRotations)
            {
                Logger.LogError("Audit log integrity: the audit key rotation recorded in event {EventId} does not hold: {Problem}. `minica audit verify` says the same", rotation.EventId, rotation.Problem);
            }

            Volatile.Write(ref _state, new AuditIntegrityState(Time.GetUtcNow(), failing.Count + badRotations.Count, check.NewestSigned?.Anchor?.SignedAt ?? state.NewestSignedAt));
            report = check.Chain;
        }
        else
        {
            report = await _queries.CheckAuditChainAsync([], settledBefore, _anchor, cancellationToken);
        }

        if (report.Head is { } anchor && anchor != _anchor)
        {
            Logger.LogInformation(
                "Audit chain anchor {Anchor} (the audit log up to event {EventId}, written {At:yyyy-MM-dd HH:mm:ss} UTC): keep it outside the CA; `minica audit verify --anchor {Anchor}` checks the log against it",
                anchor, anchor.EventId, report.HeadAt!.Value.UtcDateTime, anchor);
            _anchor = anchor;
        }

        // Each pass, not only when the anchor moved: a pass whose signing failed (the HSM away) is made good by the next.
        if (_anchor is not null && await integrity.SignAsync(_anchor, cancellationToken) is { } signed)
        {
            Volatile.Write(ref _state, State with { NewestSignedAt = signed.SignedAt });
            Logger.LogInformation("Audit chain anchor {Anchor} signed with the HSM's key '{Key}' ({KeySha256}) and stored in the audit log", signed.Anchor, signed.KeyName, signed.KeySha256);
        }

        return _anchor;
    }

    /// <inheritdoc />
    protected override TimeSpan? Interval => options.Audit.AnchorLogMinutes == 0 ? null : TimeSpan.FromMinutes(options.Audit.AnchorLogMinutes);

    /// <inheritdoc />
    protected override string Purpose => "log the audit chain's anchor";

    /// <inheritdoc />
    protected override Task RunPassAsync(CancellationToken cancellationToken) => LogOnceAsync(cancellationToken);
}

/// <summary>The audit log's integrity as the web host last saw it.</summary>
/// <param name="CheckedAt">When the log was last checked whole against its signed anchors; <see langword="null"/> before the first check.</param>
/// <param name="FailingSignedAnchors">How many signed anchors that check found the log no longer matches, with the recorded audit key rotations that do not hold.</param>
/// <param name="NewestSignedAt">When the newest signed anchor known was signed.</param>
public sealed record AuditIntegrityState(DateTimeOffset? CheckedAt, int FailingSignedAnchors, DateTimeOffset? NewestSignedAt);
