using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;
using MiniCa.Core.Authorities;

namespace MiniCa.Web;

/// <summary>The public CA endpoints relying parties fetch (ARCHITECTURE.md §3).</summary>
internal static class CaEndpoints
{
    /// <summary>How long relying parties may cache a CA certificate (it changes only at a ceremony or renewal).</summary>
    private static readonly TimeSpan CertificateMaxAge = TimeSpan.FromHours(24);

    internal static IEndpointRouteBuilder MapCaEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // GET /ca/{ca}.crt: the DER certificate of an authority, the target of AIA caIssuers (RFC 5280 §4.2.2.1).
        endpoints.MapGet("/ca/{ca}.crt", GetCertificateAsync).WithName("GetCaCertificate").AllowAnonymous();
        // GET /crl/{ca}.crl: the latest full CRL, the target of CRL distribution points (RFC 5280 §4.2.1.13).
        endpoints.MapGet("/crl/{ca}.crl", GetCrlAsync).WithName("GetCrl").AllowAnonymous();
        return endpoints;
    }

    private static async Task<IResult> GetCrlAsync(string ca, CrlCache crls, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        var crl = await crls.FindAsync(ca, cancellationToken);
        if (crl is null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Unknown CRL",
                detail: $"There is no CRL for an authority named '{ca}'.");
        }

        // Relying parties and caches may keep it until nextUpdate, not longer.
        var maxAge = Math.Max(0, (long)(crl.NextUpdate - time.GetUtcNow()).TotalSeconds);
        context.Response.Headers.CacheControl = $"public, max-age={maxAge}";
        context.Response.Headers.Expires = crl.NextUpdate.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var etag = new EntityTagHeaderValue($"\"{ca}-{crl.Number}\"");
        return TypedResults.File(crl.Der, "application/pkix-crl", fileDownloadName: null, lastModified: crl.ThisUpdate, entityTag: etag);
    }

    private static async Task<IResult> GetCertificateAsync(string ca, IAuthorityReader authorities, HttpContext context, CancellationToken cancellationToken)
    {
        var authority = await authorities.FindActiveAsync(ca, cancellationToken);
        if (authority?.CertificateDer is not { } der)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Unknown certificate authority",
                detail: $"There is no authority named '{ca}'.");
        }

        var etag = new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(SHA256.HashData(der))[..32] + "\"");
        context.Response.Headers.CacheControl = $"public, max-age={(int)CertificateMaxAge.TotalSeconds}";
        return TypedResults.File(der, "application/pkix-cert", fileDownloadName: null, lastModified: authority.NotBefore, entityTag: etag);
    }
}
