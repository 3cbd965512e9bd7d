namespace MiniCa.Core.Quorum;

/// <summary>Where a quorum operation stands.</summary>
public enum QuorumStatus
{
    /// <summary>Waiting for approvals.</summary>
    Pending,

    /// <summary>Enough distinct administrators approved; it may run once.</summary>
    Approved,

    /// <summary>It ran.</summary>
    Executed,

    /// <summary>It was not approved (or run) in time.</summary>
    Expired,
}

/// <summary>An operation on the HSM cluster that M of N administrators must approve before it runs.</summary>
public sealed record QuorumOperation
{
    /// <summary>Its number.</summary>
    public required long Id { get; init; }

    /// <summary>What it does: one of <see cref="QuorumKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>What it acts on (a member name, or <c>*</c> for the whole cluster).</summary>
    public required string Target { get; init; }

    /// <summary>Who asked (the operating-system user of the CLI, or a portal user).</summary>
    public required string RequestedBy { get; init; }

    /// <summary>When it was asked for.</summary>
    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>Until when it may be approved and run.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>How many distinct administrators must approve.</summary>
    public required int RequiredApprovals { get; init; }

    /// <summary>Where it stands.</summary>
    public required QuorumStatus Status { get; init; }

    /// <summary>Who approved, when.</summary>
    public required IReadOnlyList<QuorumApproval> Approvals { get; init; }

    /// <summary>When it ran.</summary>
    public DateTimeOffset? ExecutedAt { get; init; }

    /// <summary>What running it did.</summary>
    public string? Outcome { get; init; }

    /// <summary>A one-line description, e.g. <c>#4 add-member hsm-b</c>.</summary>
    public string Title => $"#{Id} {Kind} {Target}";
}

/// <summary>One administrator's approval.</summary>
/// <param name="Approver">The administrator's user name.</param>
/// <param name="At">When.</param>
public sealed record QuorumApproval(string Approver, DateTimeOffset At);

/// <summary>The operations that need a quorum (AWS CloudHSM's quorum authentication, for MiniCa's cluster).</summary>
public static class QuorumKinds
{
    /// <summary>Bring a configured, empty member up to date by copying every CA key to it.</summary>
    public const string AddMember = "add-member";

    /// <summary>Destroy every CA key on a member so it can leave the cluster.</summary>
    public const string RemoveMember = "remove-member";

    /// <summary>Copy missing keys to every member that lacks them (<c>hsm sync --repair</c>).</summary>
    public const string CopyKeys = "copy-keys";

    /// <summary>Every kind.</summary>
    public static IReadOnlyList<string> All { get; } = [AddMember, RemoveMember, CopyKeys];
}

/// <summary>Where quorum operations are kept.</summary>
public interface IQuorumStore
{
    /// <summary>The open (pending or approved, not expired) operation of <paramref name="kind"/> on <paramref name="target"/>, if any.</summary>
    Task<QuorumOperation?> FindOpenAsync(string kind, string target, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Records a new pending operation.</summary>
    Task<QuorumOperation> CreateAsync(string kind, string target, string requestedBy, int requiredApprovals, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>The operation with <paramref name="id"/>.</summary>
    Task<QuorumOperation?> FindAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>The most recent operations, newest first.</summary>
    Task<IReadOnlyList<QuorumOperation>> ListAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds <paramref name="approver"/>'s approval (once per administrator; a unique constraint keeps it so under
    /// concurrency) and marks the operation approved when it has enough. Returns the operation afterwards.
    /// </summary>
    Task<QuorumOperation> ApproveAsync(long id, string approver, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Marks an approved operation executed (once: a second call fails).</summary>
    Task<QuorumOperation> MarkExecutedAsync(long id, string outcome, DateTimeOffset now, CancellationToken cancellationToken = default);
}
