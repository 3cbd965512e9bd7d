using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MiniCa.Core.Ledger;
using MiniCa.Hosting.Users;
using MiniCa.Web.Portal;

namespace MiniCa.Web.Tests;

/// <summary>
/// The portal, in Chromium, while its PostgreSQL server is stopped and after it starts again (this project only:
/// SQLite has no server to stop). A list says the database does not answer, in place of its rows, and answers again
/// once it is back; the page's circuit lives through it.
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
        }
        finally
        {
            await PortalFixture.StartDatabaseServerAgainAsync();
        }

        await text.FillAsync("outage.example.com");
        await Assertions.Expect(officer.Locator("[data-testid=search-error]")).ToHaveCountAsync(0);
        await Assertions.Expect(grid).ToContainTextAsync("dns:outage.example.com");
    }
}
