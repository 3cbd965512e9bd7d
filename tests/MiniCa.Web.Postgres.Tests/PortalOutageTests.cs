using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MiniCa.Core.Ledger;
using MiniCa.Hosting.Users;
using MiniCa.Web.Portal;

namespace MiniCa.Web.Tests;

/// <summary>
/// The portal, in Chromium, while its PostgreSQL server is stopped and after it starts again (this project only:
/// SQLite has no server to stop). A list says the database does not answer, in place of its rows; a page that does
/// not catch the failure (the dashboard) is replaced by the layout's boundary saying the same, on a navigation in
/// the circuit and on a full page load; a sign-in posted meanwhile gets the browser's error page (503, no cookie).
/// The pages answer again once the server is back, in the same circuits.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class PortalOutageTests(PortalFixture fixture)
{
    [Fact]
    public async Task Portal_DatabaseServerStoppedAndStarted_ListSaysSoThenAnswersAgain()
    {
        var requester = TestUsers.Principal(PortalFixture.UserOf[PortalRoles.Requester], PortalRoles.Requester);
        var issued = await fixture.Services.GetRequiredService<RequestService>().SubmitAsync(requester, "tls-server",
            Encoding.ASCII.GetBytes(PortalFixture.CsrPem("outage.example.com")), "test", null);
        Assert.Equal(RequestStatus.Issued, issued.Status);

        await using var browser = await BrowserSession.StartAsync();
        var officer = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Officer], PortalFixture.Password);
        await BrowserSession.GoAsync(officer, "/certificates");
        var text = officer.Locator("[data-testid=filter-text] input, input[data-testid=filter-text]").First;
        var grid = officer.Locator("[data-testid=certificates]");
        await text.FillAsync("outage.example.com");
        await Assertions.Expect(grid).ToContainTextAsync("dns:outage.example.com");

        // A visitor who has the sign-in form open when the server stops (the form itself needs no database).
        await using var visitorContext = await officer.Context.Browser!.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString().TrimEnd('/') });
        var visitor = await visitorContext.NewPageAsync();
        await visitor.GotoAsync("/account/login");
        var tab = await officer.Context.NewPageAsync();

        await PortalFixture.StopDatabaseServerAsync();
        try
        {
            await text.FillAsync("outage.example");
            await Assertions.Expect(officer.Locator("[data-testid=search-error]")).ToContainTextAsync("The CA's database does not answer now");
            await Assertions.Expect(grid.Locator("tbody tr.mud-table-row")).ToHaveCountAsync(0);
            await BrowserSession.ScreenshotAsync(officer, "41-database-outage");

            // A page that does not catch its own failure (the dashboard's counts): the layout's boundary says why.
            await officer.GetByRole(AriaRole.Link, new() { Name = "Dashboard", Exact = true }).ClickAsync();
            await Assertions.Expect(officer.Locator("[data-testid=page-error]")).ToContainTextAsync("The CA's database does not answer now");
            await BrowserSession.ScreenshotAsync(officer, "42-database-outage-page");

            // A full page load renders its first view on the server, before the circuit: the layout's boundary
            // catches that render's failure too, and the page comes with the same message and the 503 of an outage.
            var load = await tab.GotoAsync("/");
            Assert.Equal(503, load!.Status);
            Assert.Equal("5", await load.HeaderValueAsync("retry-after"));
            Assert.Contains("database does not answer now", await load.TextAsync(), StringComparison.Ordinal);
            await Assertions.Expect(tab.Locator("[data-testid=page-error]")).ToContainTextAsync("The CA's database does not answer now");
            await BrowserSession.ScreenshotAsync(tab, "43-database-outage-full-load");

            // Signing in needs the database: the same page, and no session cookie.
            await visitor.FillAsync("#userName", PortalFixture.UserOf[PortalRoles.Requester]);
            await visitor.FillAsync("#password", PortalFixture.Password);
            var posted = await visitor.RunAndWaitForResponseAsync(() => visitor.ClickAsync("button[type=submit]"), response => response.Url.EndsWith("/account/login", StringComparison.Ordinal) && response.Request.Method == "POST");
            Assert.Equal(503, posted.Status);
            Assert.Equal("5", await posted.HeaderValueAsync("retry-after"));
            await Assertions.Expect(visitor.Locator("[data-testid=error-page-reason]")).ToContainTextAsync("The CA's database does not answer now");
            Assert.DoesNotContain(await visitorContext.CookiesAsync(), cookie => cookie.Name == "minica");
            await BrowserSession.ScreenshotAsync(visitor, "44-database-outage-sign-in");
        }
        finally
        {
            await PortalFixture.StartDatabaseServerAgainAsync();
        }

        await officer.ClickAsync("[data-testid=page-error-back]");
        await Assertions.Expect(officer.Locator("[data-testid=count-issued]")).ToBeVisibleAsync();
        await officer.GetByRole(AriaRole.Link, new() { Name = "Certificates", Exact = true }).ClickAsync();
        text = officer.Locator("[data-testid=filter-text] input, input[data-testid=filter-text]").First;
        await text.FillAsync("outage.example.com");
        await Assertions.Expect(officer.Locator("[data-testid=search-error]")).ToHaveCountAsync(0);
        await Assertions.Expect(grid).ToContainTextAsync("dns:outage.example.com");

        // The sign-in's error page leads back to the form, and the sign-in goes through.
        await visitor.ClickAsync("[data-testid=error-page-again]");
        await visitor.FillAsync("#userName", PortalFixture.UserOf[PortalRoles.Requester]);
        await visitor.FillAsync("#password", PortalFixture.Password);
        await visitor.ClickAsync("button[type=submit]");
        await BrowserSession.WaitLeftSignInAsync(visitor, PortalFixture.UserOf[PortalRoles.Requester]);
        Assert.Contains(await visitorContext.CookiesAsync(), cookie => cookie.Name == "minica");

        // The fully loaded page's circuit answers again too.
        await BrowserSession.WaitInteractiveAsync(tab);
        await tab.ClickAsync("[data-testid=page-error-back]");
        await Assertions.Expect(tab.Locator("[data-testid=count-issued]")).ToBeVisibleAsync();
    }
}
