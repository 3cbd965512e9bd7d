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
        endpoints.MapGet("/ca/{ca}.crt", GetCertificateAsync).WithName("GetCaCertificate");
        return endpoints;
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
