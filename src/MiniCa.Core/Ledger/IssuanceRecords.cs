namespace MiniCa.Core.Ledger;

/// <summary>Where a certificate request is in its life.</summary>
public enum RequestStatus
{
    /// <summary>Waiting for officers to approve.</summary>
    Pending,

    /// <summary>Approved by enough officers; about to be issued.</summary>
    Approved,

    /// <summary>Refused: bad CSR, policy violation, or an officer's decision.</summary>
    Rejected,

    /// <summary>A certificate was issued.</summary>
    Issued,

    /// <summary>Issuance was attempted and failed (lint error, HSM or database fault).</summary>
    Failed,
}

/// <summary>Where a certificate is in its life.</summary>
public enum CertificateStatus
{
    /// <summary>Recorded with its linted TBS bytes; the HSM is signing (or a crash interrupted it).</summary>
    Signing,

    /// <summary>Signed, verified and delivered.</summary>
    Issued,

    /// <summary>The signing attempt failed; no valid certificate exists.</summary>
    Failed,

    /// <summary>Revoked.</summary>
    Revoked,
}

/// <summary>An audit event written in the same transaction as the change it records.</summary>
/// <param name="Actor">Who acted (a user name, <c>cli:root</c>, <c>system</c>).</param>
/// <param name="Action">What happened, e.g. <c>request.rejected</c>, <c>certificate.issued</c>.</param>
/// <param name="Subject">What it happened to, e.g. <c>request:42</c>, <c>certificate:5f3a…</c>.</param>
/// <param name="Details">A short human-readable account.</param>
public sealed record AuditEntry(string Actor, string Action, string Subject, string Details);

/// <summary>A new certificate request as received.</summary>
public sealed record RequestDraft
{
    /// <summary>The profile asked for.</summary>
    public required string Profile { get; init; }

    /// <summary>Who asked.</summary>
    public required string Requester { get; init; }

    /// <summary>Which door it came through: <c>cli</c>, <c>portal</c>, <c>api</c>, <c>acme</c>.</summary>
    public required string Source { get; init; }

    /// <summary>The DER CSR; <see langword="null"/> when the input was not a CSR at all (or too large to keep).</summary>
    public byte[]? CsrDer { get; init; }

    /// <summary>The requested subject, as text.</summary>
    public string Subject { get; init; } = string.Empty;

    /// <summary>Identifiers, e.g. <c>dns:www.example.com</c>.</summary>
    public IReadOnlyList<string> Identifiers { get; init; } = [];

    /// <summary>Key description, e.g. <c>EC P-256</c>.</summary>
    public string KeyDescription { get; init; } = string.Empty;

    /// <summary>Distinct officers who must approve (0 for automatic issuance).</summary>
    public int RequiredApprovals { get; init; }
}

/// <summary>A certificate about to be signed: its serial and the exact TBS bytes that were linted.</summary>
public sealed record CertificateDraft
{
    /// <summary>Serial as lowercase hex.</summary>
    public required string SerialHex { get; init; }

    /// <summary>The issuing authority's name.</summary>
    public required string IssuerName { get; init; }

    /// <summary>Subject DN text.</summary>
    public required string Subject { get; init; }

    /// <summary>Identifiers certified.</summary>
    public required IReadOnlyList<string> Identifiers { get; init; }

    /// <summary>The profile.</summary>
    public required string Profile { get; init; }

    /// <summary>Start of validity.</summary>
    public required DateTimeOffset NotBefore { get; init; }

    /// <summary>End of validity.</summary>
    public required DateTimeOffset NotAfter { get; init; }

    /// <summary>The linted TBSCertificate DER.</summary>
    public required byte[] TbsDer { get; init; }

    /// <summary>SHA-256 of the certified SubjectPublicKeyInfo DER, lowercase hex; a blocked key is refused when recorded.</summary>
    public required string PublicKeySha256 { get; init; }
}

/// <summary>A request as stored.</summary>
public sealed record RequestRecord
{
    /// <summary>The request's number.</summary>
    public required long Id { get; init; }

    /// <summary>The profile asked for.</summary>
    public required string Profile { get; init; }

    /// <summary>Who asked.</summary>
    public required string Requester { get; init; }

    /// <summary>Where it came from.</summary>
    public required string Source { get; init; }

    /// <summary>Its status.</summary>
    public required RequestStatus Status { get; init; }

    /// <summary>Requested subject.</summary>
    public required string Subject { get; init; }

    /// <summary>Requested identifiers.</summary>
    public required IReadOnlyList<string> Identifiers { get; init; }

    /// <summary>Reasons for rejection or failure.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>Approvals needed.</summary>
    public required int RequiredApprovals { get; init; }

    /// <summary>When it was received.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The issued certificate's serial, if any.</summary>
    public string? CertificateSerial { get; init; }

    /// <summary>The DER CSR, when the input was one.</summary>
    public byte[]? CsrDer { get; init; }

    /// <summary>Officers who approved, in order.</summary>
    public IReadOnlyList<string> Approvals { get; init; } = [];
}

/// <summary>A certificate as stored.</summary>
public sealed record CertificateRecord
{
    /// <summary>Serial as lowercase hex.</summary>
    public required string SerialHex { get; init; }

    /// <summary>Issuing authority.</summary>
    public required string IssuerName { get; init; }

    /// <summary>Subject DN text.</summary>
    public required string Subject { get; init; }

    /// <summary>Identifiers certified.</summary>
    public required IReadOnlyList<string> Identifiers { get; init; }

    /// <summary>Profile.</summary>
    public required string Profile { get; init; }

    /// <summary>Status.</summary>
    public required CertificateStatus Status { get; init; }

    /// <summary>Start of validity.</summary>
    public required DateTimeOffset NotBefore { get; init; }

    /// <summary>End of validity.</summary>
    public required DateTimeOffset NotAfter { get; init; }

    /// <summary>The request it answers.</summary>
    public required long RequestId { get; init; }

    /// <summary>The DER certificate once issued.</summary>
    public byte[]? Der { get; init; }

    /// <summary>The TBS bytes recorded before signing.</summary>
    public required byte[] TbsDer { get; init; }

    /// <summary>When it was revoked.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>The RFC 5280 reason name.</summary>
    public string? RevocationReason { get; init; }

    /// <summary>The invalidity date, if given.</summary>
    public DateTimeOffset? InvalidityDate { get; init; }
}
