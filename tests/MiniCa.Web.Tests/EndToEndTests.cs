using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MiniCa.Hosting.Users;
using MiniCa.TestSupport;

namespace MiniCa.Web.Tests;

/// <summary>
/// The portal in real Chromium: two-officer approval with separation of duties, download, an independent chain
/// check, revocation, and OCSP saying so. Screenshots of every page are kept in TestResults/screenshots.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class EndToEndTests(PortalFixture fixture)
{
    [Fact]
    public async Task TwoOfficerRequest_ApprovedDownloadedRevoked_OpenSslAndOcspAgree()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        await using var browser = await BrowserSession.StartAsync();

        // The requester (who is also an officer) submits for the profile that needs two officers.
        var requester = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.RequesterOfficer, PortalFixture.Password);
        await BrowserSession.ScreenshotAsync(requester, "01-dashboard");
        await BrowserSession.GoAsync(requester, "/requests/new?profile=two-officers");
        await Assertions.Expect(requester.Locator("[data-testid=profile-description]")).ToContainTextAsync("2 officer approval(s)");
        await requester.Locator("textarea").First.FillAsync(PortalFixture.CsrPem("e2e.example.com", "www.e2e.example.com"));
        await Assertions.Expect(requester.Locator("[data-testid=preview-ok]")).ToBeVisibleAsync();
        await Assertions.Expect(requester.Locator("[data-testid=preview-identifiers]")).ToContainTextAsync("dns:www.e2e.example.com");
        await BrowserSession.ScreenshotAsync(requester, "02-new-request");
        await requester.ClickAsync("[data-testid=submit-request]");
        var outcome = requester.Locator("[data-testid=submit-outcome]");
        await Assertions.Expect(outcome).ToContainTextAsync("Pending");
        var requestId = long.Parse(RequestNumber().Match(await outcome.InnerTextAsync()).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        // Separation of duties: the requester, though an officer, cannot decide on it.
        await BrowserSession.GoAsync(requester, $"/requests/{requestId}");
        await Assertions.Expect(requester.Locator("[data-testid=own-request]")).ToBeVisibleAsync();
        await Assertions.Expect(requester.Locator("[data-testid=approve]")).ToHaveCountAsync(0);
        await BrowserSession.ScreenshotAsync(requester, "03-request-own");
        await BrowserSession.GoAsync(requester, "/requests");
        await Assertions.Expect(requester.Locator("[data-testid=my-requests]")).ToContainTextAsync("two-officers");
        await BrowserSession.ScreenshotAsync(requester, "04-my-requests");

        // Two distinct officers approve; the second approval issues the certificate.
        var first = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Officer], PortalFixture.Password);
        await BrowserSession.GoAsync(first, "/approvals");
        await Assertions.Expect(first.Locator($"[data-testid=queue-request-{requestId}]")).ToBeVisibleAsync();
        await BrowserSession.ScreenshotAsync(first, "05-approval-queue");
        await first.ClickAsync($"[data-testid=queue-request-{requestId}]");
        await BrowserSession.WaitInteractiveAsync(first);
        await first.Locator("[data-testid=decision-comment] textarea, textarea[data-testid=decision-comment]").First.FillAsync("<script>alert('x')</script> checked the names");
        await BrowserSession.ScreenshotAsync(first, "06-request-decision");
        await first.ClickAsync("[data-testid=approve]");
        await Assertions.Expect(first.Locator("[data-testid=approval-count]")).ToHaveTextAsync("1 of 2");
        // The comment is shown as text, never run as markup.
        await Assertions.Expect(first.Locator("[data-testid=decisions]")).ToContainTextAsync("<script>alert('x')</script>");
        await Assertions.Expect(first.Locator("[data-testid=already-decided]")).ToBeVisibleAsync();

        var second = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.SecondOfficer, PortalFixture.Password);
        await BrowserSession.GoAsync(second, $"/requests/{requestId}");
        await second.ClickAsync("[data-testid=approve]");
        await Assertions.Expect(second.Locator("[data-testid=certificate-link]")).ToBeVisibleAsync();
        var serial = (await second.Locator("[data-testid=certificate-link]").InnerTextAsync()).Trim();

        // The requester downloads the full chain; OpenSSL accepts it for a TLS server with that name.
        await BrowserSession.GoAsync(requester, $"/certificates/{serial}");
        await Assertions.Expect(requester.Locator("[data-testid=extensions]")).ToContainTextAsync("Subject Alternative Name");
        await BrowserSession.ScreenshotAsync(requester, "07-certificate");
        var download = await requester.RunAndWaitForDownloadAsync(() => requester.ClickAsync("[data-testid=download-chain]"));
        var work = Path.Combine(fixture.WorkDirectory, "e2e");
        Directory.CreateDirectory(work);
        var chain = Path.Combine(work, "chain.pem");
        await download.SaveAsAsync(chain);
        var leaf = Path.Combine(work, "leaf.pem");
        var pem = await File.ReadAllTextAsync(chain);
        Assert.Equal(3, Regex.Count(pem, "BEGIN CERTIFICATE"));
        await File.WriteAllTextAsync(leaf, pem[..(pem.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal) + 26)]);
        var root = Path.Combine(fixture.CaDirectory, "root.pem");
        var issuing = Path.Combine(fixture.CaDirectory, "issuing.pem");
        var verify = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "www.e2e.example.com", "-CAfile", root, "-untrusted", issuing, leaf]);
        Assert.True(verify.ExitCode == 0, verify.Combined);

        // An officer revokes it; OCSP says revoked at once.
        await BrowserSession.GoAsync(first, $"/certificates/{serial}");
        await first.ClickAsync("[data-testid=revoke]");
        await Assertions.Expect(first.Locator(".mud-dialog")).ToBeVisibleAsync();
        await first.Locator("[data-testid=reason-keyCompromise]").ClickAsync();
        await BrowserSession.ScreenshotAsync(first, "08-revoke-dialog");
        await first.ClickAsync("[data-testid=confirm-revoke]");
        await Assertions.Expect(first.Locator("[data-testid=revocation]")).ToContainTextAsync("keyCompromise");
        var ocsp = await ProcessRunner.RunAsync(openssl, ["ocsp", "-issuer", issuing, "-cert", leaf, "-url", new Uri(fixture.BaseAddress, "ocsp").ToString(), "-CAfile", root, "-no_nonce"]);
        Assert.True(ocsp.ExitCode == 0, ocsp.Combined);
        Assert.Contains(": revoked", ocsp.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Reason: keyCompromise", ocsp.StandardOutput, StringComparison.Ordinal);

        // The remaining pages, for the record (and to look at).
        var auditor = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Auditor], PortalFixture.Password);
        await BrowserSession.GoAsync(auditor, "/audit");
        await Assertions.Expect(auditor.Locator("[data-testid=audit-log]")).ToContainTextAsync("certificate.revoked");
        await BrowserSession.ScreenshotAsync(auditor, "09-audit-log");
        var admin = await browser.SignInAsync(fixture.BaseAddress, "admin", PortalFixture.AdminPassword);
        foreach (var (path, name) in new[] { ("/certificates", "10-certificates"), ("/authority", "11-authority"), ("/users", "12-users"), ("/profiles", "13-profiles"), ("/tokens", "14-tokens"), ("/", "15-dashboard-admin") })
        {
            await BrowserSession.GoAsync(admin, path);
            await BrowserSession.ScreenshotAsync(admin, name);
        }

        var phone = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Requester], PortalFixture.Password, width: 390, height: 844);
        await BrowserSession.ScreenshotAsync(phone, "16-dashboard-phone");
        await BrowserSession.GoAsync(phone, "/requests/new");
        await BrowserSession.ScreenshotAsync(phone, "17-new-request-phone");
    }

    [Fact]
    public async Task Forms_BadInput_InlineMessagesAndNothingBreaks()
    {
        await using var browser = await BrowserSession.StartAsync();
        var page = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Requester], PortalFixture.Password);
        var errors = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 500)
            {
                errors.Add($"{response.Status} {response.Url}");
            }
        };

        // Garbage CSR: the problems show inline and submit stays disabled.
        await BrowserSession.GoAsync(page, "/requests/new");
        await page.Locator("textarea").First.FillAsync("-----BEGIN CERTIFICATE REQUEST-----\nthis is not a CSR\n-----END CERTIFICATE REQUEST-----");
        await Assertions.Expect(page.Locator("[data-testid=preview-problems]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=submit-request]")).ToBeDisabledAsync();
        await BrowserSession.ScreenshotAsync(page, "20-new-request-garbage");

        // An oversized upload is refused with its size named, before it is read.
        var big = Path.Combine(fixture.WorkDirectory, "big.csr");
        await File.WriteAllBytesAsync(big, new byte[200 * 1024]);
        await page.Locator("input[type=file]").SetInputFilesAsync(big);
        await Assertions.Expect(page.Locator("[data-testid=input-error]")).ToContainTextAsync("at most");

        // A token without a name.
        await BrowserSession.GoAsync(page, "/tokens");
        await page.ClickAsync("[data-testid=create-token]");
        await Assertions.Expect(page.Locator(".mud-alert-text-error, .mud-alert-filled-error, .mud-alert").Filter(new LocatorFilterOptions { HasText = "needs a name" })).ToBeVisibleAsync();
        await page.Locator("[data-testid=token-name] input, input[data-testid=token-name]").First.FillAsync("ci");
        await page.ClickAsync("[data-testid=create-token]");
        await Assertions.Expect(page.Locator("[data-testid=token-value]")).ToContainTextAsync("mca_");

        // An administrator's user form with a bad name.
        var admin = await browser.SignInAsync(fixture.BaseAddress, "admin", PortalFixture.AdminPassword);
        admin.Response += (_, response) =>
        {
            if (response.Status >= 500)
            {
                errors.Add($"{response.Status} {response.Url}");
            }
        };
        await BrowserSession.GoAsync(admin, "/users");
        await admin.ClickAsync("[data-testid=add-user]");
        await admin.Locator("[data-testid=new-user-name] input, input[data-testid=new-user-name]").First.FillAsync("<script>x</script>");
        await admin.ClickAsync("[data-testid=create-user]");
        await Assertions.Expect(admin.Locator("[data-testid=new-user-error]")).ToContainTextAsync("user name");
        await BrowserSession.ScreenshotAsync(admin, "21-new-user-error");

        Assert.Empty(errors);
    }

    [Fact]
    public async Task HsmClusterPage_QuorumOperation_NeedsTwoDistinctAdministrators()
    {
        await using (var scope = fixture.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateAsync("ada", null, [PortalRoles.Administrator], PortalFixture.Password, "test");
        }

        var quorum = fixture.Services.GetRequiredService<MiniCa.Authority.Quorum.QuorumService>();
        var (operation, ready) = await quorum.RequireAsync(MiniCa.Core.Quorum.QuorumKinds.AddMember, "embedded", "cli:operator");
        Assert.False(ready);
        await using var browser = await BrowserSession.StartAsync();
        var admin = await browser.SignInAsync(fixture.BaseAddress, "admin", PortalFixture.AdminPassword);
        await BrowserSession.GoAsync(admin, "/hsm");
        await Assertions.Expect(admin.Locator("[data-testid=hsm-members]")).ToContainTextAsync("embedded");
        await Assertions.Expect(admin.Locator("[data-testid=hsm-members]")).ToContainTextAsync("up");

        await admin.ClickAsync($"[data-testid=approve-quorum-{operation.Id}]");
        await Assertions.Expect(admin.Locator("[data-testid=quorum-operations]")).ToContainTextAsync("1 of 2: admin");
        // Each administrator approves once: the button is gone for this one.
        await Assertions.Expect(admin.Locator($"[data-testid=approve-quorum-{operation.Id}]")).ToHaveCountAsync(0);
        await BrowserSession.ScreenshotAsync(admin, "22-hsm-cluster");

        var ada = await browser.SignInAsync(fixture.BaseAddress, "ada", PortalFixture.Password);
        await BrowserSession.GoAsync(ada, "/hsm");
        await ada.ClickAsync($"[data-testid=approve-quorum-{operation.Id}]");
        await Assertions.Expect(ada.Locator("[data-testid=quorum-operations]")).ToContainTextAsync("approved");

        var (after, nowReady) = await quorum.RequireAsync(MiniCa.Core.Quorum.QuorumKinds.AddMember, "embedded", "cli:operator");
        Assert.True(nowReady);
        Assert.Equal(operation.Id, after.Id);
        Assert.Equal(["admin", "ada"], after.Approvals.Select(a => a.Approver));
    }

    [GeneratedRegex(@"Request (\d+)")]
    private static partial Regex RequestNumber();
}
