using System.Net;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using MiniCa.Core.Errors;
using MiniCa.Web.Api;
using MiniCa.Web.Security;

namespace MiniCa.Web.Portal;

/// <summary>
/// What a person's browser gets when a request fails outside any page (a page's own failure, on its first render
/// on the server too, is the layout's error boundary's): a sign-in form posted while the database does not answer,
/// a form the portal cannot read, or, for a signed-in person, an address where there is no page. A page in the
/// portal's look saying why, with the status an API client gets, instead of a problem document shown as raw JSON.
/// API, ACME, OCSP and CRL clients do not ask for HTML and still get their problem documents.
/// </summary>
internal sealed class BrowserErrorPage : IExceptionHandler
{
    /// <summary>
    /// The status of a failed request or page: a caller's mistake as the API answers it (input no handler caught
    /// before the database's guard did, a NUL character, is one), an outage (a PostgreSQL server stopped or failing
    /// over: try again later) or a fault.
    /// </summary>
    public static int StatusFor(Exception exception) => exception switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        CaException error when ApiProblems.CallersRefusal(error.Kind) is { } refusal => refusal.Status,
        _ when DatabaseFailure.IsUnavailable(exception) => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The sign-in form's address (its post goes to the same address).</summary>
    private const string SignInForm = "/account/login";

    /// <summary>The doors for programs, whose answers are documented as problem documents whoever asks.</summary>
    private static readonly string[] MachineDoors = ["/api", "/acme", "/ocsp", "/crl", "/ca", "/openapi", "/metrics", "/healthz"];

    /// <summary>
    /// True for a request to the portal from a browser that wants a page: it names HTML among the types it accepts
    /// (browsers do on every navigation and form post; API and ACME clients, curl and OpenSSL do not), and it is not
    /// for one of the doors for programs (a browser opening an API address gets the API's problem document).
    /// </summary>
    public static bool WantsPage(HttpRequest request) =>
        !MachineDoors.Any(door => request.Path.StartsWithSegments(door, StringComparison.OrdinalIgnoreCase))
        && request.GetTypedHeaders().Accept.Any(type => type.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!WantsPage(httpContext.Request))
        {
            return false;
        }

        var sentence = exception is BadHttpRequestException
            ? "The portal could not read what this page sent. Load the page again and send it once more."
            : PageErrors.Explain(exception);
        await WriteAsync(httpContext, StatusFor(exception), sentence, cancellationToken);
        return true;
    }

    /// <summary>A browser's answer for an error status without a body or an exception (no page at this address, or a record the person may not see: <see cref="PageErrors.NotFoundOnFullLoad"/>).</summary>
    public static async Task WriteStatusAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var sentence = status == StatusCodes.Status404NotFound ? "There is nothing at this address that you can see." : "The portal cannot answer this request.";
        await WriteAsync(context, status, sentence, context.RequestAborted);
    }

    /// <summary>
    /// Sets a failure's <paramref name="status"/> on a response not yet started: not to be kept by a cache, and an
    /// outage's with when to try again.
    /// </summary>
    public static void SetStatus(HttpResponse response, int status)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = status;
        response.Headers.CacheControl = "no-store";
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = "5";
        }
    }

    /// <summary>Writes the page for <paramref name="status"/> saying <paramref name="sentence"/>, with the portal's security headers.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string sentence, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var response = context.Response;
        SetStatus(response, status);
        SecurityHeaders.Apply(context);
        response.ContentType = "text/html; charset=utf-8";

        // "Try again" repeats a page load. A link cannot post a form again: a failed sign-in (the portal's one form
        // posted outside a circuit) leads back to the form instead.
        var again = HttpMethods.IsGet(request.Method) ? ("Try again", request.PathBase + request.Path + request.QueryString)
            : request.Path.StartsWithSegments(SignInForm, StringComparison.OrdinalIgnoreCase) ? ("Back to the sign-in form", request.PathBase + SignInForm)
            : default((string Text, string Href)?);
        var title = ReasonPhrases.GetReasonPhrase(status);
        await response.WriteAsync(
            $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1.0" />
            <title>MiniCa: {Encode(title)}</title>
            <link rel="icon" href="data:," />
            <link rel="stylesheet" href="{Encode(request.PathBase + "/app.css")}" />
            </head>
            <body>
            <main class="account-page">
            <div class="account-card" data-testid="error-page" data-status="{status}">
            <div class="account-brand"><div><h1>MiniCa</h1><p>{status} {Encode(title)}</p></div></div>
            <p class="account-error" data-testid="error-page-reason">{Encode(sentence)}</p>
            {(again is { } link ? $"<a href=\"{Encode(link.Href)}\" data-testid=\"error-page-again\">{Encode(link.Text)}</a>" : "")}
            <a href="{Encode(request.PathBase + "/")}" data-testid="error-page-home">The portal's first page</a>
            </div>
            </main>
            </body>
            </html>
            """,
            cancellationToken);
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
