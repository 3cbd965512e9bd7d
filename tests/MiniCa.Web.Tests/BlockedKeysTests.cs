using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Ledger;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Tests;

/// <summary>
/// Keys reported compromised, from the portal (in real Chromium) and the REST API: an officer blocks a key from one
/// of its certificates, the certificate is revoked and the key refused, and a block made by mistake is lifted.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class BlockedKeysTests(PortalFixture fixture)
{
    [Fact]
    public async Task Portal_OfficerBlocksAKeyFromItsCertificateThenLiftsIt_CertificateRevokedAndKeyRefusedMeanwhile()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        var issued = await SubmitAsync(key, "leaked.example.com");
        Assert.Equal(RequestStatus.Issued, issued.Status);

        await using var browser = await BrowserSession.StartAsync();
        var officer = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Officer], PortalFixture.Password);
        await BrowserSession.GoAsync(officer, "/blocked-keys");
        await officer.ClickAsync("[data-testid=block-key]");
        var pem = officer.Locator("[data-testid=block-key-pem] textarea, textarea[data-testid=block-key-pem]").First;

        // A private key is refused, with how to get its public key.
        await pem.FillAsync(key.ExportPkcs8PrivateKeyPem());
        await officer.ClickAsync("[data-testid=confirm-block-key]");
        await Assertions.Expect(officer.Locator("[data-testid=block-key-error]")).ToContainTextAsync("openssl pkey -in KEY.pem -pubout");

        // Or a file: an uploaded private key is refused naming the file; the certificate as a DER file is taken.
        var work = Directory.CreateDirectory(Path.Combine(fixture.WorkDirectory, "blocked-keys")).FullName;
        var privateFile = Path.Combine(work, "leaked.key");
        await File.WriteAllTextAsync(privateFile, key.ExportPkcs8PrivateKeyPem());
        // MudFileUpload adds an input for each file chosen: the last one takes the next.
        var upload = officer.Locator("[data-testid=block-key-dialog] input[type=file]").Last;
        await upload.SetInputFilesAsync(privateFile);
        await Assertions.Expect(officer.Locator("[data-testid=block-key-file]")).ToHaveTextAsync("leaked.key");
        await officer.ClickAsync("[data-testid=confirm-block-key]");
        await Assertions.Expect(officer.Locator("[data-testid=block-key-error]")).ToContainTextAsync("leaked.key holds a private key");
        var certificateFile = Path.Combine(work, "leaked.cer");
        await File.WriteAllBytesAsync(certificateFile, issued.Certificate!);
        await upload.SetInputFilesAsync(certificateFile);
        await Assertions.Expect(officer.Locator("[data-testid=block-key-file]")).ToHaveTextAsync("leaked.cer");
        await officer.Locator("[data-testid=block-key-note] input, input[data-testid=block-key-note]").First.FillAsync("found in a public repository");
        await BrowserSession.ScreenshotAsync(officer, "30-block-key-dialog");
        await officer.ClickAsync("[data-testid=confirm-block-key]");
        await Assertions.Expect(officer.Locator("[data-testid=block-outcome]")).ToContainTextAsync($"Revoked for keyCompromise: {issued.SerialHex}");
        await Assertions.Expect(officer.Locator($"[data-testid=blocked-{fingerprint}]")).ToBeVisibleAsync();
        await BrowserSession.ScreenshotAsync(officer, "31-blocked-keys");

        var reader = fixture.Services.GetRequiredService<IIssuanceReader>();
        var revoked = (await reader.FindCertificateAsync(issued.SerialHex!))!;
        Assert.Equal(CertificateStatus.Revoked, revoked.Status);
        Assert.Equal("keyCompromise", revoked.RevocationReason);
        Assert.Equal(RequestStatus.Rejected, (await SubmitAsync(key, "leaked-again.example.com")).Status);

        // An auditor sees the block and may not change it.
        var auditor = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Auditor], PortalFixture.Password);
        await BrowserSession.GoAsync(auditor, "/blocked-keys");
        await Assertions.Expect(auditor.Locator($"[data-testid=blocked-{fingerprint}]")).ToBeVisibleAsync();
        await Assertions.Expect(auditor.Locator("[data-testid=block-key]")).ToHaveCountAsync(0);
        await Assertions.Expect(auditor.Locator($"[data-testid=lift-{fingerprint}]")).ToHaveCountAsync(0);

        // The officer lifts it, which needs a note: the key is certified again, its certificate stays revoked.
        await officer.ClickAsync($"[data-testid=lift-{fingerprint}]");
        await officer.ClickAsync("[data-testid=confirm-lift-block]");
        await Assertions.Expect(officer.Locator("[data-testid=lift-block-error]")).ToContainTextAsync("A note is required");
        await officer.Locator("[data-testid=lift-block-note] input, input[data-testid=lift-block-note]").First.FillAsync("the report named the wrong key");
        await officer.ClickAsync("[data-testid=confirm-lift-block]");
        await Assertions.Expect(officer.Locator("[data-testid=block-outcome]")).ToContainTextAsync("is lifted");
        await Assertions.Expect(officer.Locator($"[data-testid=blocked-{fingerprint}]")).ToHaveCountAsync(0);
        Assert.Equal(RequestStatus.Issued, (await SubmitAsync(key, "leaked-later.example.com")).Status);
        Assert.Equal(CertificateStatus.Revoked, (await reader.FindCertificateAsync(issued.SerialHex!))!.Status);

        var audit = await reader.ListAuditAsync(50);
        Assert.Contains(audit, a => a.Action == "key.blocked" && a.Subject == $"key:{fingerprint}" && a.Details.Contains("found in a public repository", StringComparison.Ordinal)
                                    && a.Details.Contains("certificate in the file leaked.cer", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Action == "key.unblocked" && a.Subject == $"key:{fingerprint}" && a.Details.Contains("the report named the wrong key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Portal_RequesterReportsTheKeyOfTheirSupersededCertificateCompromised_ReasonRaisedAndKeyBlocked()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        var superseded = await SubmitAsync(key, "superseded.example.com");
        var sibling = await SubmitAsync(key, "sibling.example.com");
        await fixture.Services.GetRequiredService<RevocationService>().RevokeAsync(superseded.SerialHex!, "superseded", null, "test");

        await using var browser = await BrowserSession.StartAsync();
        var requester = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Requester], PortalFixture.Password);
        await BrowserSession.GoAsync(requester, $"/certificates/{superseded.SerialHex}");
        await Assertions.Expect(requester.Locator("[data-testid=revoke]")).ToHaveCountAsync(0);
        await requester.ClickAsync("[data-testid=report-key-compromise]");
        await Assertions.Expect(requester.Locator("[data-testid=raise-explanation]")).ToContainTextAsync("was revoked for superseded");
        // Only keyCompromise is offered, and chosen.
        await Assertions.Expect(requester.Locator("[data-testid=reason-superseded]")).ToHaveCountAsync(0);
        await BrowserSession.ScreenshotAsync(requester, "32-report-key-compromise");
        await requester.ClickAsync("[data-testid=confirm-revoke]");
        await Assertions.Expect(requester.Locator("[data-testid=revocation]")).ToContainTextAsync("keyCompromise");
        await Assertions.Expect(requester.Locator("[data-testid=report-key-compromise]")).ToHaveCountAsync(0);

        var reader = fixture.Services.GetRequiredService<IIssuanceReader>();
        Assert.NotNull(await reader.FindBlockedKeyAsync(fingerprint));
        var other = (await reader.FindCertificateAsync(sibling.SerialHex!))!;
        Assert.Equal(CertificateStatus.Revoked, other.Status);
        Assert.Equal("keyCompromise", other.RevocationReason);
    }

    [Fact]
    public async Task Api_OfficerBlocksAPublicKeyListsItAndLiftsIt()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        var issued = await SubmitAsync(key, "api-leaked.example.com");
        using var officer = await ApiAsync(PortalRoles.Officer);

        // Base64 of the DER public key: blocked now (201), every certificate of it revoked.
        using (var response = await officer.PostAsJsonAsync("/api/v1/blocked-keys", new { key = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()), note = "reported by the subscriber" }))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal($"/api/v1/blocked-keys/{fingerprint}", response.Headers.Location!.OriginalString);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(body.GetProperty("added").GetBoolean());
            Assert.Equal(issued.SerialHex, Assert.Single(body.GetProperty("revoked").EnumerateArray()).GetString());
        }

        // Again, from its certificate's PEM: blocked already (200), nothing more revoked.
        using (var response = await officer.PostAsJsonAsync("/api/v1/blocked-keys", new { key = PemEncoding.WriteString("CERTIFICATE", issued.Certificate!) }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(body.GetProperty("added").GetBoolean());
            Assert.Empty(body.GetProperty("revoked").EnumerateArray());
        }

        using (var response = await officer.GetAsync("/api/v1/blocked-keys"))
        {
            var list = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(list.EnumerateArray(), b => b.GetProperty("publicKeySha256").GetString() == fingerprint && b.GetProperty("source").GetString() == "report");
        }

        // Bad input: a private key, no note to lift, not a fingerprint; each a 400 problem naming what is wrong.
        await AssertProblemAsync(await officer.PostAsJsonAsync("/api/v1/blocked-keys", new { key = key.ExportPkcs8PrivateKeyPem() }), 400, "holds a private key");
        await AssertProblemAsync(await officer.PostAsJsonAsync($"/api/v1/blocked-keys/{fingerprint}/lift", new { note = " " }), 400, "A note is required");
        await AssertProblemAsync(await officer.PostAsJsonAsync("/api/v1/blocked-keys/abc/lift", new { note = "x" }), 400, "is not a SHA-256 fingerprint");

        using (var response = await officer.PostAsJsonAsync($"/api/v1/blocked-keys/{fingerprint}/lift", new { note = "duplicate report" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await AssertProblemAsync(await officer.GetAsync($"/api/v1/blocked-keys/{fingerprint}"), 404, "is not blocked");
        await AssertProblemAsync(await officer.PostAsJsonAsync($"/api/v1/blocked-keys/{fingerprint}/lift", new { note = "again" }), 404, "is not blocked");
    }

    private async Task<IssuanceOutcome> SubmitAsync(ECDsa key, string name) =>
        await fixture.Services.GetRequiredService<IssuanceService>().SubmitAsync(new IssuanceSubmission
        {
            Csr = System.Text.Encoding.ASCII.GetBytes(PortalFixture.CsrPem(key, name)),
            Profile = "tls-server",
            Requester = PortalFixture.UserOf[PortalRoles.Requester],
            Source = "test",
        });

    private Task<HttpClient> ApiAsync(string role) => fixture.ApiClientAsync(PortalFixture.UserOf[role], "blocked-keys");

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string detail)
    {
        using (response)
        {
            Assert.Equal(status, (int)response.StatusCode);
            Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString() ?? string.Empty, StringComparison.Ordinal);
            Assert.Contains(detail, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
