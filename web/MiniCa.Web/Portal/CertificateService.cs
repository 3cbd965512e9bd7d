using System.Security.Claims;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Authorities;
using MiniCa.Core.Errors;
using MiniCa.Core.Issuance;
using MiniCa.Core.Ledger;
using MiniCa.Data.Queries;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Portal;

/// <summary>A file to hand to a browser or an API client.</summary>
internal sealed record Download(byte[] Content, string ContentType, string FileName);

/// <summary>
/// Certificates as the portal and the API show them: who may see one (its requester, or Officers, Auditors and
/// Administrators), the download formats, and revocation (Officers, or the requester for their own certificate).
/// A certificate a user may not see is reported as not found, so serials cannot be probed.
/// </summary>
internal sealed class CertificateService(PortalQueries queries, IAuthorityReader authorities, RevocationService revocation)
{
    /// <summary>The download formats: name, label.</summary>
    public static IReadOnlyList<(string Format, string Label)> Formats { get; } =
        [("pem", "PEM"), ("der", "DER"), ("chain", "Full chain (PEM)"), ("p7b", "PKCS#7")];

    public async Task<Page<CertificateRow>> SearchAsync(ClaimsPrincipal user, CertificateQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return await queries.CertificatesAsync(user.SeesAll() ? query : query with { Owner = user.Name() }, cancellationToken);
    }

    /// <summary>The certificate, or <see langword="null"/> when it does not exist or the user may not see it.</summary>
    public async Task<CertificateDetail?> FindAsync(ClaimsPrincipal user, string serial, CancellationToken cancellationToken = default)
    {
        var detail = await queries.CertificateAsync(serial, cancellationToken);
        return detail is not null && (user.SeesAll() || string.Equals(detail.Requester, user.Name(), StringComparison.OrdinalIgnoreCase)) ? detail : null;
    }

    /// <summary>Whether <paramref name="user"/> may revoke <paramref name="certificate"/> now (it is issued and they may).</summary>
    public static bool CanRevoke(ClaimsPrincipal user, CertificateDetail certificate) =>
        MayRevoke(user, certificate) && certificate.Certificate.Status == CertificateStatus.Issued;

    /// <summary>
    /// Whether <paramref name="user"/> may report the key of <paramref name="certificate"/>, revoked earlier for another
    /// reason, compromised: its reason becomes keyCompromise and the key is blocked.
    /// </summary>
    public static bool CanReportKeyCompromise(ClaimsPrincipal user, CertificateDetail certificate) =>
        MayRevoke(user, certificate) && certificate.Certificate.Status == CertificateStatus.Revoked
        && certificate.Certificate.RevocationReason != MiniCa.Core.Revocation.RevocationReasons.Name(MiniCa.Core.Revocation.RevocationReason.KeyCompromise);

    /// <summary>Officers may revoke any certificate; a requester their own.</summary>
    private static bool MayRevoke(ClaimsPrincipal user, CertificateDetail certificate)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(certificate);
        return user.IsInRole(PortalRoles.Officer)
               || (user.IsInRole(PortalRoles.Requester) && string.Equals(certificate.Requester, user.Identity?.Name, StringComparison.OrdinalIgnoreCase));
    }

    public async Task<Download?> DownloadAsync(ClaimsPrincipal user, string serial, string format, CancellationToken cancellationToken = default)
    {
        var detail = await FindAsync(user, serial, cancellationToken);
        if (detail?.Der is not { } der)
        {
            return null;
        }

        var name = detail.Certificate.SerialHex;
        switch (format.ToLowerInvariant())
        {
            case "pem":
                return new Download(System.Text.Encoding.ASCII.GetBytes(CertificateFormats.ToPem(der)), "application/x-pem-file", name + ".pem");
            case "der":
            case "crt":
                return new Download(der, "application/pkix-cert", name + ".crt");
            case "chain":
                return new Download(System.Text.Encoding.ASCII.GetBytes(CertificateFormats.ToPemChain(await AuthorityChain.BuildAsync(authorities, der, detail.Certificate.IssuerName, cancellationToken: cancellationToken))),
                    "application/pem-certificate-chain", name + "-chain.pem");
            case "p7b":
                return new Download(CertificateFormats.ToPkcs7(await AuthorityChain.BuildAsync(authorities, der, detail.Certificate.IssuerName, cancellationToken: cancellationToken)), "application/pkcs7-mime", name + ".p7b");
            default:
                throw new CaException(CaErrorKind.Malformed, $"'{format}' is not a download format; use pem, der, chain or p7b.");
        }
    }

    public async Task<CertificateRecord> RevokeAsync(ClaimsPrincipal user, string serial, string reason, DateTimeOffset? invalidityDate, CancellationToken cancellationToken = default)
    {
        var detail = await FindAsync(user, serial, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"No certificate with serial {serial}.");
        // The permission is checked whatever the status, so that the answer never depends on who may do what.
        if (!MayRevoke(user, detail))
        {
            throw new CaException(CaErrorKind.Forbidden, "Only an officer, or the requester of this certificate, may revoke it.");
        }

        return await revocation.RevokeAsync(detail.Certificate.SerialHex, reason, invalidityDate, user.Name(), cancellationToken);
    }
}
