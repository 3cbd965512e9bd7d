using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using MiniCa.Core.Errors;
using MiniCa.Web.Portal;

namespace MiniCa.Web.Tests;

/// <summary>
/// The exception handler's page for a browser, on its own: its status and sentence for each kind of failure, never
/// the failure's inside, and no page for a client that does not ask for HTML or asks at a door for programs.
/// </summary>
public sealed class BrowserErrorPageTests
{
    private const string Html = "text/html,application/xhtml+xml,*/*;q=0.8";

    public static TheoryData<Exception, int, string> Failures => new()
    {
        { new InvalidCastException("inside detail"), 500, "This page failed; the operators have the details in the log." },
        { new CaException(CaErrorKind.StorageFailed, "inside detail", new SqliteException("inside detail: disk I/O error", 10)), 503, "The CA's database does not answer now; try again in a moment." },
        { new CaException(CaErrorKind.Malformed, "The name holds a NUL character (U+0000)."), 400, "The name holds a NUL character (U+0000)." },
        { new CaException(CaErrorKind.NotFound, "There is no request 7."), 404, "There is no request 7." },
        { new BadHttpRequestException("inside detail", 400), 400, "The portal could not read what this page sent." },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Failure_PageWithItsStatusAndSentence_NeverItsInside(Exception failure, int status, string sentence)
    {
        var context = Request("/certificates", Html);
        Assert.True(await new BrowserErrorPage().TryHandleAsync(context, failure, CancellationToken.None));
        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", context.Response.ContentType);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.Contains("frame-ancestors 'none'", context.Response.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        var page = Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
        Assert.Contains(System.Net.WebUtility.HtmlEncode(sentence), page, StringComparison.Ordinal);
        Assert.DoesNotContain("inside detail", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/certificates", "application/json")]
    [InlineData("/certificates", null)]
    [InlineData("/api/v1/certificates", Html)]
    [InlineData("/acme/new-order", Html)]
    public async Task NotABrowsersPageRequest_LeftToTheProblemDocument(string path, string? accept)
    {
        var context = Request(path, accept);
        Assert.False(await new BrowserErrorPage().TryHandleAsync(context, new InvalidCastException("inside detail"), CancellationToken.None));
        Assert.Equal(0, context.Response.Body.Length);
    }

    private static DefaultHttpContext Request(string path, string? accept)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        context.Response.Body = new MemoryStream();
        return context;
    }
}
