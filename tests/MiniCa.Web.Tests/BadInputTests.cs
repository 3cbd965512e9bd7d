using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MiniCa.Core.Ledger;
using MiniCa.Data.Queries;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Tests;

/// <summary>Bad input at the HTTP doors gets a precise 4xx (a problem document on the API), never a 500.</summary>
[Collection(PortalCollection.Name)]
public sealed class BadInputTests(PortalFixture fixture)
{
    [Fact]
    public async Task Api_GarbageCsr_422WithEveryReasonAndTheAttemptRecorded()
    {
        using var client = await ApiAsync("rita");
        using var response = await client.PostAsJsonAsync("/api/v1/requests", new { profile = "tls-server", csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----" });
        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEmpty(problem.GetProperty("problems").EnumerateArray());
        var id = problem.GetProperty("requestId").GetInt64();
        var recorded = await fixture.Services.GetRequiredService<PortalQueries>().RequestAsync(id);
        Assert.Equal(RequestStatus.Rejected, recorded!.Request.Status);
    }

    /// <summary>
    /// CSRs the fuzzer (MiniCa.Unit.Tests, CsrFuzzTests) found to escape the parser as exceptions, each answered
    /// now like any bad CSR: 422 with its reasons. Before, the API answered each with a 500.
    /// </summary>
    [Theory]
    [InlineData("ec-point-encoding", "the public key")]
    [InlineData("signature-pad-bits", "signature does not verify")]
    [InlineData("pem-empty", "the PEM block is empty")]
    [InlineData("pem-begin-line", "BEGIN line")]
    public async Task Api_CsrsTheFuzzerFound_422WithTheReason(string kind, string reason)
    {
        var pem = PortalFixture.CsrPem("fuzz.example.com");
        var der = Convert.FromBase64String(pem[PemEncoding.Find(pem).Base64Data]);
        var csr = kind switch
        {
            // The uncompressed point's 0x04 after the key's BIT STRING header (03 42 00) made 0x6E: no point encoding.
            "ec-point-encoding" => Pem(Patch(der, [0x03, 0x42, 0x00, 0x04], 3, 0x6E)),
            // The signature's BIT STRING (after ecdsa-with-SHA256) with one unused bit: not whole octets.
            "signature-pad-bits" => Pem(Patch(der, [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02, 0x03], 10, 0x01)),
            "pem-empty" => "-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n",
            _ => pem.Replace("-----BEGIN CERTIFICATE REQUEST-----", "-----BEGIN CERTIFICATE REQ", StringComparison.Ordinal),
        };
        using var client = await ApiAsync("rita");
        using var response = await client.PostAsJsonAsync("/api/v1/requests", new { profile = "tls-server", csr });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == (HttpStatusCode)422, $"{(int)response.StatusCode}: {body}");
        Assert.Contains(reason, body, StringComparison.Ordinal);

        static byte[] Patch(byte[] der, byte[] marker, int offset, byte value)
        {
            var at = der.AsSpan().LastIndexOf(marker);
            Assert.True(at >= 0, "the marker is not in the CSR");
            var patched = (byte[])der.Clone();
            patched[at + offset] = value;
            return patched;
        }

        static string Pem(byte[] der) => PemEncoding.WriteString("CERTIFICATE REQUEST", der);
    }

    /// <summary>A key file the fuzzer (PublicKeyFileFuzzTests) found to escape as an exception: before, a 500.</summary>
    [Theory]
    [InlineData("-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----\n")]
    [InlineData("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")]
    public async Task Api_BlockedKeyFromAnEmptyPemBlock_400SaysItIsEmpty(string key)
    {
        using var client = await ApiAsync("oscar");
        using var response = await client.PostAsJsonAsync("/api/v1/blocked-keys", new { key, note = "fuzz" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("is empty", body, StringComparison.Ordinal);
    }

    /// <summary>A body the API cannot read: its 4xx as a problem whose detail says why, where the JSON reader said it.</summary>
    [Theory]
    [InlineData("{ not json", "application/json", "Path: $ | LineNumber: 0 | BytePositionInLine: 2")]
    [InlineData("{\"profile\": 5, \"csr\": []}", "application/json", "Path: $.profile")]
    [InlineData("{\"profile\": \"tls-server\"}", "application/json", "Both 'profile' and 'csr' are required.")]
    [InlineData("profile=tls-server", "application/x-www-form-urlencoded", null)]
    public async Task Api_MalformedBody_400Problem(string body, string contentType, string? detail)
    {
        using var client = await ApiAsync("rita");
        using var content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await client.PostAsync("/api/v1/requests", content);
        Assert.InRange((int)response.StatusCode, 400, 415);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        if (detail is not null)
        {
            Assert.Contains(detail, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A NUL character in a search or in a body's text: no stored text can hold one (PostgreSQL's cannot), so it is
    /// refused at the door, saying why. On PostgreSQL the searches answered 503, as if the database were down
    /// (ApiFuzzTests); a body's NUL got a bare "Bad Request".
    /// </summary>
    [Theory]
    [InlineData("GET", "/api/v1/certificates?q=fuzz%00.example.com", null)]
    [InlineData("GET", "/api/v1/requests?profile=tls%00server", null)]
    [InlineData("POST", "/api/v1/requests/987654321/reject", "{\"comment\":\"not\\u0000ours\"}")]
    [InlineData("POST", "/api/v1/blocked-keys/0000000000000000000000000000000000000000000000000000000000000000/lift", "{\"note\":\"\\u0000\"}")]
    public async Task Api_NulCharacter_400ProblemSaysSo(string method, string path, string? body)
    {
        using var client = await ApiAsync("oscar");
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("NUL character", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    /// <summary>
    /// A CSR whose subject holds control characters (a NUL, a line feed) in its CN: refused with its reasons (the CN is
    /// not among the SANs), and recorded as rejected with the subject's text, its control characters escaped as RFC
    /// 4514 hex pairs. PostgreSQL's text cannot hold a NUL.
    /// </summary>
    [Fact]
    public async Task Api_CsrSubjectWithControlCharacters_422AndRecordedEscaped()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName("nul\0line\nname.example.com");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("control.example.com");
        request.CertificateExtensions.Add(san.Build());
        var csr = PemEncoding.WriteString("CERTIFICATE REQUEST", request.CreateSigningRequest());

        using var client = await ApiAsync("rita");
        using var response = await client.PostAsJsonAsync("/api/v1/requests", new { profile = "tls-server", csr });
        Assert.True(response.StatusCode == (HttpStatusCode)422, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var recorded = await fixture.Services.GetRequiredService<PortalQueries>().RequestAsync(problem.GetProperty("requestId").GetInt64());
        Assert.Equal(RequestStatus.Rejected, recorded!.Request.Status);
        Assert.Contains("nul\\00line\\0Aname.example.com", recorded.Request.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_OneMegabyteBody_413Problem()
    {
        using var client = await ApiAsync("rita");
        using var response = await client.PostAsJsonAsync("/api/v1/requests", new { profile = "tls-server", csr = new string('A', 1024 * 1024) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/api/v1/certificates/zz-not-hex", 404)]
    [InlineData("/api/v1/certificates/00/exe", 404)]
    [InlineData("/api/v1/requests/abc", 404)]
    [InlineData("/api/v1/requests?status=bogus", 400)]
    [InlineData("/api/v1/certificates?status=7", 400)]
    [InlineData("/api/v1/certificates?pageSize=100000&page=-3", 200)]
    public async Task Api_BadPathOrQuery_ClearStatus(string path, int expected)
    {
        using var client = await ApiAsync("oscar");
        using var response = await client.GetAsync(path);
        Assert.Equal(expected, (int)response.StatusCode);
    }

    [Fact]
    public async Task Api_UnknownProfile_422NamesIt()
    {
        using var client = await ApiAsync("rita");
        using var response = await client.PostAsJsonAsync("/api/v1/requests", new { profile = "no-such-profile", csr = PortalFixture.CsrPem("x.example.com") });
        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains("no-such-profile", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_OversizedOrEmptyFields_BackToTheFormWithAMessage()
    {
        using var client = fixture.Anonymous();
        using var long_ = await PortalFixture.SignInAsync(client, new string('x', 10_000), "whatever");
        Assert.Equal(HttpStatusCode.Redirect, long_.StatusCode);
        Assert.Contains("error=", long_.Headers.Location!.OriginalString, StringComparison.Ordinal);
        using var empty = await PortalFixture.SignInAsync(client, string.Empty, string.Empty);
        Assert.Contains("error=missing", empty.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var page = await client.GetStringAsync(empty.Headers.Location);
        Assert.Contains("Enter a user name and a password.", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_Refused()
    {
        using var client = fixture.Anonymous();
        using var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["userName"] = "admin", ["password"] = PortalFixture.AdminPassword }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("minica=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryTokenFromABrowser_400PageSaysSo()
    {
        using var client = fixture.Anonymous();
        using var post = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["userName"] = "admin", ["password"] = PortalFixture.AdminPassword }),
        };
        post.Headers.Accept.ParseAdd(BrowserAccept);
        using var response = await client.SendAsync(post);
        await AssertErrorPageAsync(response, HttpStatusCode.BadRequest, "The portal could not read what this page sent.");
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("minica=", StringComparison.Ordinal)));
        Assert.Contains("<a href=\"/account/login\" data-testid=\"error-page-again\">Back to the sign-in form</a>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Browser_NoPageAtTheAddress_404PageForABrowserProblemForOthers()
    {
        const string path = "/no-such-page?x=1";
        // Signed in: a visitor who is not is sent to the sign-in form first.
        using var client = fixture.Anonymous();
        (await PortalFixture.SignInAsync(client, "audrey", PortalFixture.Password)).Dispose();

        using (var page = await BrowserGetAsync(client, path))
        {
            await AssertErrorPageAsync(page, HttpStatusCode.NotFound, "There is nothing at this address that you can see.");
            Assert.Contains($"href=\"{path}\" data-testid=\"error-page-again\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var api = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/certificates/0DEADBEEF0")]
    [InlineData("/requests/987654321")]
    public async Task Browser_NoRecordAtTheAddress_404Page(string path)
    {
        // An auditor sees every record: there is none at this address.
        using var client = await fixture.SignedInAsync(PortalFixture.UserOf[PortalRoles.Auditor]);
        using var page = await BrowserGetAsync(client, path);
        await AssertErrorPageAsync(page, HttpStatusCode.NotFound, "There is nothing at this address that you can see.");
    }

    [Fact]
    public async Task Browser_SomeoneElsesRecord_404PageForARequesterThePageForItsOwner()
    {
        long id;
        string serial;
        using (var api = await ApiAsync(PortalFixture.RequesterOfficer))
        using (var created = await api.PostAsJsonAsync("/api/v1/requests", new { profile = "tls-server", csr = PortalFixture.CsrPem("someone-else.example.com") }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = await created.Content.ReadFromJsonAsync<JsonElement>();
            id = body.GetProperty("id").GetInt64();
            serial = body.GetProperty("certificateSerial").GetString()!;
        }

        using var requester = await fixture.SignedInAsync(PortalFixture.UserOf[PortalRoles.Requester]);
        using var owner = await fixture.SignedInAsync(PortalFixture.RequesterOfficer);
        foreach (var path in new[] { $"/requests/{id}", $"/certificates/{serial}" })
        {
            using (var hidden = await BrowserGetAsync(requester, path))
            {
                await AssertErrorPageAsync(hidden, HttpStatusCode.NotFound, "There is nothing at this address that you can see.");
            }

            using var shown = await BrowserGetAsync(owner, path);
            Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
            Assert.Contains("someone-else.example.com", await shown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Portal_NoRecordInARunningPage_ThePageSaysSo()
    {
        // Inside the circuit there is no response to answer 404 with: the page shows its own message.
        await using var browser = await BrowserSession.StartAsync();
        var page = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Auditor], PortalFixture.Password);
        await BrowserSession.GoAsync(page, "/certificates");
        await page.EvaluateAsync("Blazor.navigateTo('/certificates/0DEADBEEF0')");
        await Assertions.Expect(page.GetByText("There is no certificate 0DEADBEEF0 that you can see.")).ToBeVisibleAsync();
        await page.EvaluateAsync("Blazor.navigateTo('/requests/987654321')");
        await Assertions.Expect(page.GetByText("There is no request 987654321 that you can see.")).ToBeVisibleAsync();
        Assert.EndsWith("/requests/987654321", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Browser_NoPageAtAMarkupAddress_TheAddressIsShownAsText()
    {
        using var client = fixture.Anonymous();
        (await PortalFixture.SignInAsync(client, "audrey", PortalFixture.Password)).Dispose();
        using var page = await BrowserGetAsync(client, "/no-such-page%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E?q=%22%3E%3Cscript%3Ealert(2)%3C/script%3E");
        await AssertErrorPageAsync(page, HttpStatusCode.NotFound, "There is nothing at this address that you can see.");
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("data-testid=\"error-page-again\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Browser_NulInTheQuery_400PageSaysSo()
    {
        using var client = fixture.Anonymous();
        using var page = await BrowserGetAsync(client, "/certificates?text=a%00b");
        await AssertErrorPageAsync(page, HttpStatusCode.BadRequest, "The query string holds a NUL character (%00)");
    }

    [Theory]
    [InlineData("/api/v1/certificates", 401)]
    [InlineData("/api/v1/certificates?q=a%00b", 400)]
    [InlineData("/ocsp", 405)]
    public async Task Browser_DoorsForPrograms_KeepTheirProblemDocuments(string path, int status)
    {
        using var client = fixture.Anonymous();
        using var response = await BrowserGetAsync(client, path);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>What Chromium sends as Accept on a navigation.</summary>
    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

    /// <summary>GET <paramref name="path"/> as a browser's navigation asks for it.</summary>
    private static async Task<HttpResponseMessage> BrowserGetAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(BrowserAccept);
        return await client.SendAsync(request);
    }

    private static async Task AssertErrorPageAsync(HttpResponseMessage response, HttpStatusCode status, string sentence)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains($"data-status=\"{(int)status}\"", html, StringComparison.Ordinal);
        Assert.Contains(sentence, html, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", html, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", string.Join(' ', response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_ExternalReturnUrl_StaysOnSite()
    {
        using var client = fixture.Anonymous();
        var page = await client.GetStringAsync("/account/login");
        using var response = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PortalFixture.AntiforgeryToken(page),
            ["userName"] = "audrey",
            ["password"] = PortalFixture.Password,
            ["returnUrl"] = "//evil.example.com/phish",
        }));
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignIn_FiveWrongPasswords_AccountLockedEvenForTheRightOne()
    {
        await using (var scope = fixture.Services.CreateAsyncScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<MiniCa.Hosting.Users.UserAdministration>();
            await admin.CreateAsync("lockme", null, ["Requester"], PortalFixture.Password, "test");
        }

        using var client = fixture.Anonymous();
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await PortalFixture.SignInAsync(client, "lockme", "wrong-password-" + i);
            Assert.Contains("error=", wrong.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        using var right = await PortalFixture.SignInAsync(client, "lockme", PortalFixture.Password);
        Assert.Contains("error=locked", right.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Portal_SecurityHeaders_OnPagesAndApi()
    {
        using var client = fixture.Anonymous();
        foreach (var path in new[] { "/account/login", "/api/v1/certificates", "/healthz" })
        {
            using var response = await client.GetAsync(path);
            var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }

        using var login = await PortalFixture.SignInAsync(client, "audrey", PortalFixture.Password);
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("minica=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    private Task<HttpClient> ApiAsync(string userName) => fixture.ApiClientAsync(userName, "bad-input");
}
