namespace MiniCa.Data.Entities;

/// <summary>An audit event: who did what to what, and when. Written in the same transaction as the change.</summary>
public sealed class AuditEventEntity
{
    /// <summary>Sequence number.</summary>
    public long Id { get; set; }

    /// <summary>When.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>Who.</summary>
    public string Actor { get; set; } = string.Empty;

    /// <summary>What, e.g. <c>certificate.issued</c>.</summary>
    public string Action { get; set; } = string.Empty;

    /// <summary>To what, e.g. <c>request:42</c>.</summary>
    public string Subject { get; set; } = string.Empty;

    /// <summary>Human-readable account.</summary>
    public string Details { get; set; } = string.Empty;
}
