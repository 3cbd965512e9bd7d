namespace MiniCa.Web.Security;

/// <summary>
/// Security headers on every response: a Content Security Policy (scripts and connections only from this origin;
/// MudBlazor needs inline styles), no framing (clickjacking), no MIME sniffing, no referrer leakage.
/// The API reference page runs its own inline bootstrap script and gets its own policy.
/// </summary>
internal static class SecurityHeaders
{
    private const string Portal = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";
    private const string Reference = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        Apply(context);
        return next(context);
    });

    /// <summary>
    /// Sets the headers on <paramref name="context"/>'s response; also for a page written after the exception
    /// handler has cleared the response (and with it the headers set on the way in).
    /// </summary>
    public static void Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/scalar") ? Reference : Portal;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
    }
}
