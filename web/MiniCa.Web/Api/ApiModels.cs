using System.ComponentModel.DataAnnotations;
using MiniCa.Data.Queries;

namespace MiniCa.Web.Api;

/// <summary>A certificate request submitted through the API.</summary>
/// <param name="Profile">A profile in <c>policies/</c>.</param>
/// <param name="Csr">The PKCS#10 request, PEM (or base64 DER).</param>
/// <param name="ValidityDays">Optional: fewer days than the profile's maximum.</param>
public sealed record SubmitRequestBody([property: Required] string Profile, [property: Required] string Csr, int? ValidityDays);

/// <summary>An officer's decision.</summary>
/// <param name="Comment">Why (required to reject).</param>
public sealed record DecisionBody(string? Comment);

/// <summary>A revocation.</summary>
/// <param name="Reason">RFC 5280 reason name, e.g. <c>keyCompromise</c>, <c>superseded</c>.</param>
/// <param name="InvalidityDate">Since when the key is known or suspected to be compromised.</param>
public sealed record RevokeBody([property: Required] string Reason, DateTimeOffset? InvalidityDate);

/// <summary>A key reported compromised, to block.</summary>
/// <param name="Key">A certificate, CSR or public key of it: PEM, or base64 of its DER. Never a private key.</param>
/// <param name="Note">How the compromise was reported, for the audit log.</param>
public sealed record BlockKeyBody([property: Required] string Key, string? Note);

/// <summary>Why a block is lifted.</summary>
/// <param name="Note">Required, for the audit log.</param>
public sealed record LiftBlockBody([property: Required] string Note);

/// <summary>A blocked key: no certificate is issued for it (BR §6.1.1.3 (4)).</summary>
/// <param name="PublicKeySha256">SHA-256 of its SubjectPublicKeyInfo, lowercase hex.</param>
/// <param name="BlockedAt">When.</param>
/// <param name="Reason">Why (keyCompromise).</param>
/// <param name="Source"><c>certificate:SERIAL</c> when a revocation reported it, <c>report</c> when blocked directly.</param>
/// <param name="BlockedBy">Who.</param>
public sealed record BlockedKeyResource(string PublicKeySha256, DateTimeOffset BlockedAt, string Reason, string Source, string BlockedBy)
{
    internal static BlockedKeyResource From(MiniCa.Core.Ledger.BlockedKey b) => new(b.PublicKeySha256, b.BlockedAt, b.Reason, b.Source, b.BlockedBy);
}

/// <summary>What blocking a key did.</summary>
/// <param name="Block">The block (the earlier one when the key was blocked already).</param>
/// <param name="Added">Whether this call blocked it.</param>
/// <param name="Revoked">Serials revoked for keyCompromise by this call.</param>
public sealed record KeyBlockResource(BlockedKeyResource Block, bool Added, IReadOnlyList<string> Revoked);

/// <summary>A certificate request.</summary>
public sealed record RequestResource(long Id, string Profile, string Requester, string Source, string Status, string Subject,
    IReadOnlyList<string> Identifiers, int RequiredApprovals, int Approvals, DateTimeOffset CreatedAt, IReadOnlyList<string> Problems,
    string? CertificateSerial, string? CertificateUrl)
{
    internal static RequestResource From(RequestRow r, IReadOnlyList<string> problems) => new(r.Id, r.Profile, r.Requester, r.Source,
        r.Status.ToString().ToLowerInvariant(), r.Subject, r.Identifiers, r.RequiredApprovals, r.Approvals, r.CreatedAt, problems,
        r.CertificateSerial, r.CertificateSerial is null ? null : $"/api/v1/certificates/{r.CertificateSerial}");
}

/// <summary>A certificate.</summary>
public sealed record CertificateResource(string Serial, string Issuer, string Subject, IReadOnlyList<string> Identifiers, string Profile,
    string Status, DateTimeOffset NotBefore, DateTimeOffset NotAfter, long RequestId, DateTimeOffset? RevokedAt, string? RevocationReason,
    IReadOnlyDictionary<string, string> Downloads)
{
    internal static CertificateResource From(CertificateRow c) => new(c.SerialHex, c.IssuerName, c.Subject, c.Identifiers, c.Profile,
        c.Status.ToString().ToLowerInvariant(), c.NotBefore, c.NotAfter, c.RequestId, c.RevokedAt, c.RevocationReason,
        new Dictionary<string, string>
        {
            ["pem"] = $"/api/v1/certificates/{c.SerialHex}/pem",
            ["der"] = $"/api/v1/certificates/{c.SerialHex}/der",
            ["chain"] = $"/api/v1/certificates/{c.SerialHex}/chain",
            ["p7b"] = $"/api/v1/certificates/{c.SerialHex}/p7b",
        });
}

/// <summary>A page of results.</summary>
public sealed record PageResource<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);

/// <summary>One audit event, with every field the audit chain hashes.</summary>
public sealed record AuditEventResource(long Id, DateTimeOffset At, string Actor, string Action, string Subject, string Details)
{
    internal static AuditEventResource From(AuditRow row) => new(row.Id, row.At, row.Actor, row.Action, row.Subject, row.Details);
}

/// <summary>A run of the audit log in id order.</summary>
/// <param name="Events">The events, oldest first.</param>
/// <param name="Next">The id to ask after next; <see langword="null"/> when the log ends in this run.</param>
public sealed record AuditEventsResource(IReadOnlyList<AuditEventResource> Events, long? Next);

/// <summary>The audit log checked against anchors given and the signed anchors stored in it.</summary>
/// <param name="Intact">Every anchor given and every signed anchor holds, and every recorded audit key rotation is one.</param>
/// <param name="Events">How many events the chain ran over.</param>
/// <param name="Head">The anchor to keep now; <see langword="null"/> when no event is settled yet.</param>
/// <param name="NewerEvents">Events after the head, not settled yet.</param>
/// <param name="Anchors">Each anchor given.</param>
/// <param name="SignedAnchors">The signed anchors stored in the log.</param>
/// <param name="KeyRotations">Each rotation of the audit key recorded in the log (<c>minica audit rotate-key</c>), oldest first.</param>
public sealed record AuditIntegrityResource(bool Intact, long Events, AuditHeadResource? Head, long NewerEvents, IReadOnlyList<AuditAnchorResource> Anchors, SignedAnchorsResource SignedAnchors, IReadOnlyList<AuditKeyRotationResource> KeyRotations)
{
    internal static AuditIntegrityResource From(MiniCa.Hosting.AuditLogCheck check) => new(
        check.Intact,
        check.Chain.Events,
        check.Chain.Head is { } head ? new AuditHeadResource(head.ToString(), head.EventId, check.Chain.HeadAt!.Value) : null,
        check.Chain.NewerEvents,
        check.GivenAnchors.Select(a => new AuditAnchorResource(a.Anchor.ToString(), a.Holds, a.Problem)).ToList(),
        new SignedAnchorsResource(
            check.SignedAnchors.Count,
            check.NewestSigned is { Anchor: { } newest } stored ? new SignedAnchorResource(stored.EventId, newest.Anchor.ToString(), newest.SignedAt, newest.KeyName, newest.KeySha256) : null,
            check.SignedAnchors.Where(c => !c.Holds).Select(c => new SignedAnchorProblemResource(c.EventId, c.Problem!)).ToList()),
        check.KeyRotations.Select(c => new AuditKeyRotationResource(c.EventId, c.Rotation?.From, c.Rotation?.FromSha256, c.Rotation?.To, c.Rotation?.ToSha256, c.Rotation?.By, c.Holds, c.Problem)).ToList());
}

/// <summary>A rotation of the audit key recorded in the log.</summary>
/// <param name="EventId">The event that records it.</param>
/// <param name="From">The replaced key's name (<see langword="null"/> when the event's details are not a rotation).</param>
/// <param name="FromSha256">The SHA-256 of the replaced key's SubjectPublicKeyInfo.</param>
/// <param name="To">The new key's name.</param>
/// <param name="ToSha256">The SHA-256 of the new key's SubjectPublicKeyInfo.</param>
/// <param name="By">Who rotated it.</param>
/// <param name="Holds">Its details are a rotation between two of the HSM's audit keys.</param>
/// <param name="Problem">Why not.</param>
public sealed record AuditKeyRotationResource(long EventId, string? From, string? FromSha256, string? To, string? ToSha256, string? By, bool Holds, string? Problem);

/// <summary>The anchor to keep now.</summary>
/// <param name="Anchor"><c>ID:HASH</c>.</param>
/// <param name="EventId">The event it stops at.</param>
/// <param name="At">When that event was written.</param>
public sealed record AuditHeadResource(string Anchor, long EventId, DateTimeOffset At);

/// <summary>An anchor given, and whether the log still matches it.</summary>
public sealed record AuditAnchorResource(string Anchor, bool Holds, string? Problem);

/// <summary>The signed anchors stored in the log.</summary>
/// <param name="Count">How many events hold one.</param>
/// <param name="Newest">The newest that holds.</param>
/// <param name="Failing">Those that do not hold, and why.</param>
public sealed record SignedAnchorsResource(int Count, SignedAnchorResource? Newest, IReadOnlyList<SignedAnchorProblemResource> Failing);

/// <summary>A signed anchor that holds.</summary>
/// <param name="EventId">The event that stores it.</param>
/// <param name="Anchor"><c>ID:HASH</c>.</param>
/// <param name="SignedAt">When it was signed.</param>
/// <param name="Key">The HSM key's name.</param>
/// <param name="KeySha256">The SHA-256 of the key's SubjectPublicKeyInfo.</param>
public sealed record SignedAnchorResource(long EventId, string Anchor, DateTimeOffset SignedAt, string Key, string KeySha256);

/// <summary>A signed anchor that does not hold.</summary>
public sealed record SignedAnchorProblemResource(long EventId, string Problem);
