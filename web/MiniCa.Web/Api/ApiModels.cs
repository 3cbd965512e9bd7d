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
