using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MiniCa.Core.Errors;
using MiniCa.Data.Entities;
using MiniCa.Data.Queries;
using MiniCa.Hosting.Users;
using MiniCa.Web.Portal;
using MiniCa.Web.Security;

namespace MiniCa.Web.Tests;

/// <summary>
/// A NUL character (U+0000) given to the portal: a search, a form's free text, a sign-in's user name. PostgreSQL's
/// text cannot hold one, and SQLite stored it. Now each is the person's mistake, said as such, on both databases,
/// with nothing recorded (NulTextGuard).
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class PortalNulTests(PortalFixture fixture)
{
    [Fact]
    public async Task Portal_NulInTheAuditSearch_SaysSoWithNoRowsAndTheNextSearchAnswers()
    {
        await using var browser = await BrowserSession.StartAsync();
        var auditor = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Auditor], PortalFixture.Password);
        await BrowserSession.GoAsync(auditor, "/audit");
        var text = auditor.Locator("[data-testid=audit-text] input, input[data-testid=audit-text]").First;
        var rows = auditor.Locator("[data-testid=audit-log] tbody tr.mud-table-row");
        await Assertions.Expect(rows.First).ToBeVisibleAsync();

        // Before the guard, SQLite found nothing and PostgreSQL refused the statement; either way the grid kept the
        // rows of the search before (the load ran from the field's debounce timer, its failure seen by nobody).
        await text.FillAsync("nul\0search");
        await Assertions.Expect(auditor.Locator("[data-testid=search-error]")).ToContainTextAsync("NUL character (U+0000)");
        await Assertions.Expect(rows).ToHaveCountAsync(0);
        await BrowserSession.ScreenshotAsync(auditor, "40-search-error");

        await text.FillAsync(PortalFixture.UserOf[PortalRoles.Auditor]);
        await Assertions.Expect(auditor.Locator("[data-testid=search-error]")).ToHaveCountAsync(0);
        await Assertions.Expect(auditor.Locator("[data-testid=audit-log]")).ToContainTextAsync("user:" + PortalFixture.UserOf[PortalRoles.Auditor]);
    }

    /// <summary>
    /// ASP.NET Core's form reader refuses a NUL in a posted form (400) before MiniCa's code runs; any other control
    /// character in a user name reaches the sign-in, which fails it as any wrong sign-in and audits the name escaped.
    /// </summary>
    [Fact]
    public async Task SignIn_ControlCharactersInTheUserName_FailAsAWrongSignInAuditedEscaped()
    {
        using (var client = fixture.Anonymous())
        {
            using var nul = await PortalFixture.SignInAsync(client, "aud\0rey", PortalFixture.Password);
            Assert.Equal(HttpStatusCode.BadRequest, nul.StatusCode);
        }

        using (var client = fixture.Anonymous())
        {
            using var response = await PortalFixture.SignInAsync(client, "aud\nrey", PortalFixture.Password);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.Contains("error=failed", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        var audit = await fixture.Services.GetRequiredService<PortalQueries>().AuditAsync(new AuditQuery { Actor = "aud\\0Arey" });
        Assert.Contains(audit.Items, e => e.Action == "user.login-failed" && e.Subject == "user:aud\\0Arey");
    }

    /// <summary>The services behind the API token page and the block dialog (the approval form: ComponentTests).</summary>
    [Fact]
    public async Task FormServices_NulInFreeText_RefusedNamingTheFieldNothingRecorded()
    {
        var userName = PortalFixture.UserOf[PortalRoles.Officer];
        await using var scope = fixture.Services.CreateAsyncScope();
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<MiniCaUser>>().FindByNameAsync(userName))!;
        var tokens = fixture.Services.GetRequiredService<ApiTokens>();
        var refused = await Assert.ThrowsAsync<CaException>(() => tokens.CreateAsync(user.Id, userName, "nul\0token", 1));
        Assert.Equal(CaErrorKind.Malformed, refused.Kind);
        Assert.Contains("The ApiToken's Name holds a NUL character", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await tokens.ListAsync(user.Id), t => t.Name.StartsWith("nul", StringComparison.Ordinal));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var blocked = fixture.Services.GetRequiredService<BlockedKeyService>();
        var officer = TestUsers.Principal(userName, PortalRoles.Officer);
        refused = await Assert.ThrowsAsync<CaException>(() => blocked.BlockAsync(officer, key.ExportSubjectPublicKeyInfoPem(), "reported\0by mail", "portal"));
        Assert.Equal(CaErrorKind.Malformed, refused.Kind);
        Assert.Contains("NUL character", refused.Message, StringComparison.Ordinal);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        Assert.DoesNotContain(await blocked.ListAsync(100), b => b.PublicKeySha256 == fingerprint);
    }
}
