using System.Security.Claims;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Errors;
using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.Data.Queries;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Portal;

/// <summary>
/// Requests as the portal and the API handle them: submission through the one issuance pipeline, previews, lists,
/// and officers' decisions. Requesters see their own requests; Officers, Auditors and Administrators see all.
/// </summary>
internal sealed class RequestService(IssuanceService issuance, PortalQueries queries, ProfileCatalog profiles, BlockedKeyLists blockedKeys)
{
    /// <summary>The largest CSR accepted from a form or an API call (a CSR is a few kilobytes).</summary>
    public const int MaxCsrBytes = 64 * 1024;

    public IReadOnlyList<CertificateProfile> Profiles => profiles.All.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();

    /// <summary>What a submission of <paramref name="csr"/> under <paramref name="profile"/> would meet, the issuing CA's name constraints included.</summary>
    public async Task<RequestPreview> PreviewAsync(string profile, byte[] csr, CancellationToken cancellationToken = default)
    {
        var constraints = await issuance.IssuerNameConstraintsAsync(cancellationToken);
        return RequestPreview.Evaluate(profiles, blockedKeys, profile, csr, constraints);
    }

    public async Task<IssuanceOutcome> SubmitAsync(ClaimsPrincipal user, string profile, byte[] csr, string source, int? validityDays, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csr);
        if (!user.IsInRole(PortalRoles.Requester))
        {
            throw new CaException(CaErrorKind.Forbidden, "Only requesters submit certificate requests.");
        }

        if (csr.Length > MaxCsrBytes)
        {
            throw new CaException(CaErrorKind.Malformed, $"The CSR is {csr.Length:N0} bytes; at most {MaxCsrBytes:N0} are accepted.");
        }

        return await issuance.SubmitAsync(new IssuanceSubmission { Csr = csr, Profile = profile, Requester = user.Name(), Source = source, ValidityDays = validityDays }, cancellationToken);
    }

    public async Task<Page<RequestRow>> ListAsync(ClaimsPrincipal user, RequestQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return await queries.RequestsAsync(user.SeesAll() ? query : query with { Requester = user.Name() }, cancellationToken);
    }

    /// <summary>The request, or <see langword="null"/> when it does not exist or the user may not see it.</summary>
    public async Task<RequestDetail?> FindAsync(ClaimsPrincipal user, long id, CancellationToken cancellationToken = default)
    {
        var detail = await queries.RequestAsync(id, cancellationToken);
        return detail is not null && (user.SeesAll() || string.Equals(detail.Request.Requester, user.Name(), StringComparison.OrdinalIgnoreCase)) ? detail : null;
    }

    /// <summary>An officer's decision; separation of duties is enforced by the request itself.</summary>
    public async Task<IssuanceOutcome> DecideAsync(ClaimsPrincipal user, long id, bool approve, string? comment, CancellationToken cancellationToken = default)
    {
        if (!user.IsInRole(PortalRoles.Officer))
        {
            throw new CaException(CaErrorKind.Forbidden, "Only officers decide on requests.");
        }

        comment = (comment ?? string.Empty).Trim();
        if (comment.Length > 2000)
        {
            throw new CaException(CaErrorKind.Malformed, "A comment is at most 2,000 characters.");
        }

        if (!approve && comment.Length == 0)
        {
            throw new CaException(CaErrorKind.Malformed, "Say why the request is rejected.");
        }

        return await issuance.DecideAsync(id, user.Name(), approve, comment, cancellationToken);
    }
}
