using System.Net;
using System.Text;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;

namespace MiniCa.Web;

/// <summary>The front page until the Blazor portal arrives: what this CA is and where its certificates are.</summary>
internal static class PortalPlaceholder
{
    internal static async Task<IResult> RenderAsync(IAuthorityReader authorities, CaOptions options, CancellationToken cancellationToken)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MiniCa</title>")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>")
            .Append("<body style=\"font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem\">")
            .Append("<h1>MiniCa</h1><p>A certificate authority whose keys never leave the HSM.</p><h2>Authorities</h2><ul>");
        foreach (var authority in await authorities.ListAsync(cancellationToken))
        {
            var name = WebUtility.HtmlEncode(authority.Name);
            html.Append("<li><a href=\"/ca/").Append(name).Append(".crt\">").Append(name).Append("</a> — ")
                .Append(WebUtility.HtmlEncode(authority.Subject)).Append(" (serial ").Append(authority.SerialHex).Append(", ")
                .Append(authority.Status.ToString().ToLowerInvariant()).Append(")</li>");
        }

        html.Append("</ul><p><a href=\"/healthz\">Health</a> · Public base URL: ")
            .Append(WebUtility.HtmlEncode(options.PublicBaseUrl)).Append("</p></body></html>");
        return TypedResults.Content(html.ToString(), "text/html; charset=utf-8");
    }
}
