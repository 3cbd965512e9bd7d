using MiniCa.Core.Ledger;

namespace MiniCa.Data.Queries;

/// <summary>One page of results and the total that matched.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total);

/// <summary>The dashboard's counts.</summary>
public sealed record PortalCounts(int Pending, int Issued, int Revoked, int ExpiringSoon);

/// <summary>Certificates issued on one UTC day.</summary>
public sealed record DailyCount(DateOnly Day, int Count);

/// <summary>Filters for request lists (the approval queue and "my requests").</summary>
public sealed record RequestQuery
{
    /// <summary>Only this status.</summary>
    public RequestStatus? Status { get; init; }

    /// <summary>Only this requester's.</summary>
    public string? Requester { get; init; }

    /// <summary>Only this profile.</summary>
    public string? Profile { get; init; }

    /// <summary>Text in the subject or identifiers.</summary>
    public string? Text { get; init; }

    /// <summary>Oldest first (the queue) instead of newest first.</summary>
    public bool OldestFirst { get; init; }

    /// <summary>Zero-based page.</summary>
    public int Page { get; init; }

    /// <summary>Rows per page (1..200).</summary>
    public int PageSize { get; init; } = 25;
}

/// <summary>A request in a list.</summary>
public sealed record RequestRow(long Id, string Profile, string Requester, string Source, RequestStatus Status, string Subject,
    IReadOnlyList<string> Identifiers, int RequiredApprovals, int Approvals, DateTimeOffset CreatedAt, string? CertificateSerial);

/// <summary>An officer's decision.</summary>
public sealed record DecisionRow(string Officer, string Decision, string Comment, DateTimeOffset At);

/// <summary>A request with everything the portal shows about it.</summary>
public sealed record RequestDetail(RequestRow Request, IReadOnlyList<string> Problems, string KeyDescription, byte[]? CsrDer, IReadOnlyList<DecisionRow> Decisions);

/// <summary>Filters for the certificate search.</summary>
public sealed record CertificateQuery
{
    /// <summary>Serial (hex, colons allowed) or its start.</summary>
    public string? Serial { get; init; }

    /// <summary>Text in the subject or the SANs.</summary>
    public string? Text { get; init; }

    /// <summary>Only this profile.</summary>
    public string? Profile { get; init; }

    /// <summary>Only this status.</summary>
    public CertificateStatus? Status { get; init; }

    /// <summary>Only certificates that expire before this instant.</summary>
    public DateTimeOffset? ExpiresBefore { get; init; }

    /// <summary>Only certificates requested by this user (Requesters see their own).</summary>
    public string? Owner { get; init; }

    /// <summary>Zero-based page.</summary>
    public int Page { get; init; }

    /// <summary>Rows per page (1..200).</summary>
    public int PageSize { get; init; } = 25;
}

/// <summary>A certificate in a list.</summary>
public sealed record CertificateRow(string SerialHex, string IssuerName, string Subject, IReadOnlyList<string> Identifiers, string Profile,
    CertificateStatus Status, DateTimeOffset NotBefore, DateTimeOffset NotAfter, long RequestId, DateTimeOffset? RevokedAt, string? RevocationReason);

/// <summary>A certificate with its bytes and its requester.</summary>
public sealed record CertificateDetail(CertificateRow Certificate, string Requester, byte[]? Der);

/// <summary>Filters for the audit log.</summary>
public sealed record AuditQuery
{
    /// <summary>Only this actor.</summary>
    public string? Actor { get; init; }

    /// <summary>Actions starting with this, e.g. <c>certificate.</c>.</summary>
    public string? Action { get; init; }

    /// <summary>Text in the subject or details.</summary>
    public string? Text { get; init; }

    /// <summary>From this instant.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Before this instant.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Zero-based page.</summary>
    public int Page { get; init; }

    /// <summary>Rows per page (1..1000).</summary>
    public int PageSize { get; init; } = 50;
}

/// <summary>An audit event.</summary>
public sealed record AuditRow(long Id, DateTimeOffset At, string Actor, string Action, string Subject, string Details);
