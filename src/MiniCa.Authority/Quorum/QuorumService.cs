using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Core.Quorum;

namespace MiniCa.Authority.Quorum;

/// <summary>
/// Separation of duties for the HSM cluster, like AWS CloudHSM's quorum authentication: adding or removing a
/// member and copying keys wait until <c>Hsm:QuorumApprovals</c> distinct administrators approve them in the
/// portal; an approved operation runs once, within 24 hours. Every request, approval and run is an audit event.
/// </summary>
public sealed class QuorumService(IQuorumStore store, IAuditLog audit, CaOptions options, TimeProvider time)
{
    /// <summary>How long a request may wait for approvals and then for its run.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>
    /// The approved operation of <paramref name="kind"/> on <paramref name="target"/> ready to run, or null after
    /// making sure one is waiting (created now by <paramref name="requestedBy"/> when none is open).
    /// </summary>
    public async Task<(QuorumOperation Operation, bool Ready)> RequireAsync(string kind, string target, string requestedBy, CancellationToken cancellationToken = default)
    {
        if (!QuorumKinds.All.Contains(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a quorum operation");
        }

        var now = time.GetUtcNow();
        var open = await store.FindOpenAsync(kind, target, now, cancellationToken);
        if (open is not null)
        {
            return (open, open.Status == QuorumStatus.Approved);
        }

        var created = await store.CreateAsync(kind, target, requestedBy, options.Hsm.QuorumApprovals, now, now + Lifetime, cancellationToken);
        await audit.RecordAsync(new AuditEntry(requestedBy, "quorum.request", created.Title, $"needs {created.RequiredApprovals} administrator approval(s) until {created.ExpiresAt:u}"), cancellationToken);
        return (created, false);
    }

    /// <summary>Records <paramref name="administrator"/>'s approval of operation <paramref name="id"/>.</summary>
    /// <exception cref="CaException">Unknown, expired, already run, or already approved by this administrator.</exception>
    public async Task<QuorumOperation> ApproveAsync(long id, string administrator, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(administrator);
        var approved = await store.ApproveAsync(id, administrator, time.GetUtcNow(), cancellationToken);
        await audit.RecordAsync(new AuditEntry(administrator, "quorum.approve", approved.Title, $"{approved.Approvals.Count} of {approved.RequiredApprovals} approval(s)"), cancellationToken);
        return approved;
    }

    /// <summary>Marks an approved operation as run, with what it did (once).</summary>
    public async Task<QuorumOperation> CompleteAsync(QuorumOperation operation, string actor, string outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var done = await store.MarkExecutedAsync(operation.Id, outcome, time.GetUtcNow(), cancellationToken);
        await audit.RecordAsync(new AuditEntry(actor, "quorum.execute", done.Title, outcome), cancellationToken);
        return done;
    }

    /// <summary>The most recent operations, newest first.</summary>
    public Task<IReadOnlyList<QuorumOperation>> ListAsync(int count = 50, CancellationToken cancellationToken = default) => store.ListAsync(count, cancellationToken);
}
