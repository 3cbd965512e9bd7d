using System.Globalization;
using System.Security.Claims;
using System.Text;
using MiniCa.Core.Errors;
using MiniCa.Data.Queries;
using MiniCa.Web.Security;

namespace MiniCa.Web.Portal;

/// <summary>Files the portal links to: certificate downloads and the audit log as CSV (cookie-authenticated).</summary>
internal static class PortalDownloads
{
    public static IEndpointRouteBuilder MapPortalDownloads(this IEndpointRouteBuilder app)
    {
        var portal = app.MapGroup("/portal").ExcludeFromDescription();
        portal.MapGet("/certificates/{serial}/{format}", DownloadAsync).RequireAuthorization(PortalPolicies.Member);
        portal.MapGet("/audit.csv", AuditCsvAsync).RequireAuthorization(PortalPolicies.Audit);
        return app;
    }

    private static async Task<IResult> DownloadAsync(string serial, string format, ClaimsPrincipal user, CertificateService certificates, CancellationToken cancellationToken)
    {
        try
        {
            var download = await certificates.DownloadAsync(user, serial, format, cancellationToken);
            return download is null ? Results.NotFound() : Results.File(download.Content, download.ContentType, download.FileName);
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.Malformed)
        {
            return Results.BadRequest();
        }
    }

    private static async Task AuditCsvAsync(HttpContext context, PortalQueries queries, string? actor, string? action, string? q, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"minica-audit.csv\"";
        var query = new AuditQuery { Actor = actor, Action = action, Text = q, From = from, To = to };
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false));
        await writer.WriteLineAsync("id,at,actor,action,subject,details");
        await foreach (var row in queries.StreamAuditAsync(query, cancellationToken))
        {
            await writer.WriteLineAsync(string.Join(',', row.Id.ToString(CultureInfo.InvariantCulture), row.At.ToString("O", CultureInfo.InvariantCulture),
                Csv(row.Actor), Csv(row.Action), Csv(row.Subject), Csv(row.Details)));
        }
    }

    /// <summary>RFC 4180 quoting; a leading formula character is neutralised (CSV injection into spreadsheets).</summary>
    internal static string Csv(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
