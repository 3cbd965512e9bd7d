using MiniCa.Core.Quorum;

namespace MiniCa.Data.Entities;

/// <summary>A cluster operation that needs M of N administrators.</summary>
public sealed class QuorumOperationEntity
{
    /// <summary>Its number.</summary>
    public long Id { get; set; }

    /// <summary>One of <see cref="QuorumKinds"/>.</summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>A member name or <c>*</c>.</summary>
    public string Target { get; set; } = string.Empty;

    /// <summary>Who asked.</summary>
    public string RequestedBy { get; set; } = string.Empty;

    /// <summary>When.</summary>
    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>Until when it may be approved and run.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Approvals needed.</summary>
    public int RequiredApprovals { get; set; }

    /// <summary>Pending, Approved, Executed (Expired is computed from <see cref="ExpiresAt"/>).</summary>
    public QuorumStatus Status { get; set; }

    /// <summary>When it ran.</summary>
    public DateTimeOffset? ExecutedAt { get; set; }

    /// <summary>What running it did.</summary>
    public string? Outcome { get; set; }

    /// <summary>The approvals.</summary>
    public List<QuorumApprovalEntity> Approvals { get; set; } = [];
}

/// <summary>One administrator's approval of a quorum operation.</summary>
public sealed class QuorumApprovalEntity
{
    /// <summary>Surrogate key.</summary>
    public long Id { get; set; }

    /// <summary>The operation.</summary>
    public long OperationId { get; set; }

    /// <summary>The administrator's user name (unique per operation).</summary>
    public string Approver { get; set; } = string.Empty;

    /// <summary>When.</summary>
    public DateTimeOffset At { get; set; }
}
