using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Data.Entities;

/// <summary>A certificate request. Status changes only through the guarded methods.</summary>
public sealed class CertificateRequestEntity
{
    private CertificateRequestEntity()
    {
    }

    /// <summary>Request number.</summary>
    public long Id { get; private set; }

    /// <summary>Profile asked for.</summary>
    public string Profile { get; private set; } = string.Empty;

    /// <summary>Who asked.</summary>
    public string Requester { get; private set; } = string.Empty;

    /// <summary>Door it came through.</summary>
    public string Source { get; private set; } = string.Empty;

    /// <summary>Stored as a string.</summary>
    public RequestStatus Status { get; private set; }

    /// <summary>The DER CSR (absent when the input was no CSR).</summary>
    public byte[]? CsrDer { get; private set; }

    /// <summary>Requested subject.</summary>
    public string Subject { get; private set; } = string.Empty;

    /// <summary>Requested identifiers, one per line.</summary>
    public string Identifiers { get; private set; } = string.Empty;

    /// <summary>Key description.</summary>
    public string KeyDescription { get; private set; } = string.Empty;

    /// <summary>Reasons for rejection or failure, one per line.</summary>
    public string Problems { get; private set; } = string.Empty;

    /// <summary>Distinct approvals needed.</summary>
    public int RequiredApprovals { get; private set; }

    /// <summary>When it arrived.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When its status last changed.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>The certificate issued for it.</summary>
    public CertificateEntity? Certificate { get; private set; }

    /// <summary>Officers' decisions.</summary>
    public List<ApprovalEntity> Approvals { get; private set; } = [];

    /// <summary>The identifiers as search index rows.</summary>
    public List<RequestNameEntity> Names { get; private set; } = [];

    /// <summary>A new request in <paramref name="status"/>.</summary>
    public static CertificateRequestEntity Create(RequestDraft draft, RequestStatus status, IEnumerable<string> problems, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return new CertificateRequestEntity
        {
            Profile = draft.Profile,
            Requester = draft.Requester,
            Source = draft.Source,
            Status = status,
            CsrDer = draft.CsrDer,
            Subject = Truncate(draft.Subject, 1024),
            Identifiers = string.Join('\n', draft.Identifiers),
            KeyDescription = draft.KeyDescription,
            Problems = string.Join('\n', problems),
            RequiredApprovals = draft.RequiredApprovals,
            CreatedAt = now,
            UpdatedAt = now,
            Names = RequestNameEntity.For(draft.Identifiers),
        };
    }

    /// <summary>
    /// Records an officer's decision. Separation of duties: the requester never decides on their own request,
    /// each officer decides once, and the request is approved only when enough distinct officers approved.
    /// </summary>
    public void Decide(string officer, bool approve, string comment, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(officer);
        if (Status != RequestStatus.Pending)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Request {Id} is {Status}; only pending requests are decided on.");
        }

        if (string.Equals(officer, Requester, StringComparison.OrdinalIgnoreCase))
        {
            throw new CaException(CaErrorKind.PolicyViolation, $"Separation of duties: {officer} requested {Id} and cannot decide on it.");
        }

        if (Approvals.Any(a => string.Equals(a.Officer, officer, StringComparison.OrdinalIgnoreCase)))
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"{officer} has already decided on request {Id}.");
        }

        Approvals.Add(new ApprovalEntity { RequestId = Id, Officer = officer, Decision = approve ? "Approved" : "Rejected", Comment = comment, At = now });
        if (!approve)
        {
            Status = RequestStatus.Rejected;
            Problems = $"rejected by {officer}" + (string.IsNullOrWhiteSpace(comment) ? string.Empty : $": {comment}");
        }
        else if (Approvals.Count(a => a.Decision == "Approved") >= RequiredApprovals)
        {
            Status = RequestStatus.Approved;
        }

        UpdatedAt = now;
    }

    /// <summary>Issuance starts: only a new or approved request can be signed.</summary>
    public void BeginSigning(DateTimeOffset now)
    {
        if (Status != RequestStatus.Approved)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Request {Id} is {Status} and cannot be issued.");
        }

        Status = RequestStatus.Approved;
        UpdatedAt = now;
    }

    /// <summary>Adds the certificate about to be signed for this (approved) request.</summary>
    public CertificateEntity AttachCertificate(CertificateDraft draft, DateTimeOffset now)
    {
        if (Status != RequestStatus.Approved || Certificate is not null)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Request {Id} is {Status} and cannot be signed (again).");
        }

        Certificate = CertificateEntity.BeginSigning(draft, now);
        return Certificate;
    }

    /// <summary>The certificate was issued.</summary>
    public void MarkIssued(DateTimeOffset now)
    {
        if (Status != RequestStatus.Approved)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Request {Id} is {Status}; only an approved request becomes issued.");
        }

        Status = RequestStatus.Issued;
        UpdatedAt = now;
    }

    /// <summary>Issuance failed for <paramref name="reason"/>.</summary>
    public void MarkFailed(string reason, DateTimeOffset now)
    {
        if (Status is RequestStatus.Issued or RequestStatus.Rejected)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Request {Id} is {Status} and cannot fail.");
        }

        Status = RequestStatus.Failed;
        Problems = string.IsNullOrEmpty(Problems) ? reason : Problems + "\n" + reason;
        UpdatedAt = now;
    }

    /// <summary>The domain view.</summary>
    public RequestRecord ToRecord() => new()
    {
        Id = Id,
        Profile = Profile,
        Requester = Requester,
        Source = Source,
        Status = Status,
        Subject = Subject,
        Identifiers = Split(Identifiers),
        Problems = Split(Problems),
        RequiredApprovals = RequiredApprovals,
        CreatedAt = CreatedAt,
        CertificateSerial = Certificate?.SerialHex,
        CsrDer = CsrDer,
        Approvals = Approvals.Where(a => a.Decision == "Approved").Select(a => a.Officer).ToList(),
    };

    internal static IReadOnlyList<string> Split(string lines) => lines.Length == 0 ? [] : lines.Split('\n');

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}

/// <summary>An officer's decision on a request.</summary>
public sealed class ApprovalEntity
{
    /// <summary>Surrogate key.</summary>
    public long Id { get; set; }

    /// <summary>The request decided on.</summary>
    public long RequestId { get; set; }

    /// <summary>Who decided.</summary>
    public string Officer { get; set; } = string.Empty;

    /// <summary><c>Approved</c> or <c>Rejected</c>.</summary>
    public string Decision { get; set; } = string.Empty;

    /// <summary>Why.</summary>
    public string Comment { get; set; } = string.Empty;

    /// <summary>When.</summary>
    public DateTimeOffset At { get; set; }
}
