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
/// not catch the failure (the dashboard) is replaced by the layout's boundary saying the same; both answer again
/// once the server is back, in the same circuit.
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
    }
}
