using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Data.Entities;
using MiniCa.Web.Security;

namespace MiniCa.Web.Tests;

/// <summary>
/// Every page and API endpoint against anonymous and every role, each cell asserted. Allowed roles are written out
/// here, not read from the code under test.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AuthorizationMatrixTests(PortalFixture fixture) : IAsyncLifetime
{
    private const string Anonymous = "anonymous";
    private const string R = "Requester";
    private const string O = "Officer";
    private const string Au = "Auditor";
    private const string Ad = "Administrator";

    private static readonly string[] Everyone = [R, O, Au, Ad];

    public static readonly string[] Identities = [Anonymous, R, O, Au, Ad];

    /// <summary>Portal pages and files: path, roles allowed. {request} and {serial} are the requester's own request and certificate (a record a person may not see answers 404).</summary>
    public static readonly (string Path, string[] Allowed)[] Pages =
    [
        ("/", Everyone),
        ("/requests/new", [R]),
        ("/requests", [R]),
        ("/requests/{request}", Everyone),
        ("/approvals", [O]),
        ("/certificates", Everyone),
        ("/certificates/{serial}", Everyone),
        ("/blocked-keys", [O, Au, Ad]),
        ("/authority", Everyone),
        ("/acme-orders", [O, Au, Ad]),
        ("/profiles", Everyone),
        ("/tokens", Everyone),
        ("/audit", [Au, Ad]),
        ("/users", [Ad]),
        ("/hsm", [Ad]),
        ("/portal/audit.csv", [Au, Ad]),
    ];

    public static TheoryData<string, string> PageCells()
    {
        var data = new TheoryData<string, string>();
        foreach (var (path, _) in Pages)
        {
            foreach (var identity in Identities)
            {
                data.Add(path, identity);
            }
        }

        return data;
    }

    private static string? _serial;
    private static long _requestId;
    private static readonly Dictionary<string, string> Tokens = [];

    public async Task InitializeAsync()
    {
        if (Tokens.Count > 0)
        {
            return;
        }

        var tokens = fixture.Services.GetRequiredService<ApiTokens>();
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<MiniCaUser>>();
        foreach (var role in Everyone)
        {
            var user = (await users.FindByNameAsync(PortalFixture.UserOf[role]))!;
            Tokens[role] = await tokens.CreateAsync(user.Id, user.UserName!, "matrix", 1);
        }

        // One certificate owned by the requester, for the per-certificate cells.
        using var client = Api(R);
        using var response = await client.PostAsJsonAsync("/api/v1/requests", new { profile = "tls-server", csr = PortalFixture.CsrPem("matrix.example.com") });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        _serial = body.GetProperty("certificateSerial").GetString();
        _requestId = body.GetProperty("id").GetInt64();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [MemberData(nameof(PageCells))]
    public async Task Page_ForEachIdentity_AllowedRenderDeniedRedirect(string path, string identity)
    {
        var allowed = Pages.Single(p => p.Path == path).Allowed;
        using var client = identity == Anonymous ? fixture.Anonymous() : await fixture.SignedInAsync(PortalFixture.UserOf[identity]);
        using var response = await client.GetAsync(path.Replace("{request}", _requestId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("{serial}", _serial, StringComparison.Ordinal));
        if (identity == Anonymous)
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
        else if (allowed.Contains(identity))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/denied", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/account/denied")]
    [InlineData("/healthz")]
    [InlineData("/ca/root.crt")]
    [InlineData("/ca/issuing.crt")]
    [InlineData("/crl/issuing.crl")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/scalar/")]
    [InlineData("/acme/directory")]
    public async Task PublicEndpoint_Anonymous_IsServed(string path)
    {
        using var client = fixture.Anonymous();
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string> ApiCells()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in new[] { "list-requests", "submit", "get-request", "approve", "reject", "list-certificates", "get-certificate", "download", "revoke", "list-blocked-keys", "get-blocked-key", "block-key", "lift-block", "audit-events", "audit-integrity" })
        {
            foreach (var identity in Identities)
            {
                data.Add(endpoint, identity);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ApiCells))]
    public async Task Api_ForEachIdentity_StatusAsSpecified(string endpoint, string identity)
    {
        using var client = identity == Anonymous ? fixture.Anonymous() : Api(identity);
        var (request, expected) = endpoint switch
        {
            "list-requests" => (Get("/api/v1/requests"), Expect(identity, 200, 200, 200, 200)),
            "submit" => (Post("/api/v1/requests", new { profile = "tls-server", csr = PortalFixture.CsrPem($"api-{identity.ToLowerInvariant()}.example.com") }), Expect(identity, 201, 403, 403, 403)),
            "get-request" => (Get($"/api/v1/requests/{_requestId}"), Expect(identity, 200, 200, 200, 200)),
            // A request that does not exist: officers get 404 from the service, everyone else 403 from the policy.
            "approve" => (Post("/api/v1/requests/999999/approve", new { comment = "ok" }), Expect(identity, 403, 404, 403, 403)),
            "reject" => (Post("/api/v1/requests/999999/reject", new { comment = "no" }), Expect(identity, 403, 404, 403, 403)),
            "list-certificates" => (Get("/api/v1/certificates"), Expect(identity, 200, 200, 200, 200)),
            "get-certificate" => (Get($"/api/v1/certificates/{_serial}"), Expect(identity, 200, 200, 200, 200)),
            "download" => (Get($"/api/v1/certificates/{_serial}/pem"), Expect(identity, 200, 200, 200, 200)),
            // A reason that does not exist, so no cell revokes anything: the owner and officers reach the reason
            // check (400); auditors and administrators see the certificate but may not revoke it (403).
            "revoke" => (Post($"/api/v1/certificates/{_serial}/revoke", new { reason = "no-such-reason" }), Expect(identity, 400, 400, 403, 403)),
            "list-blocked-keys" => (Get("/api/v1/blocked-keys"), Expect(identity, 403, 200, 200, 200)),
            // A key that is not blocked: those who may look get 404.
            "get-blocked-key" => (Get($"/api/v1/blocked-keys/{new string('0', 64)}"), Expect(identity, 403, 404, 404, 404)),
            // Not a key, so no cell blocks anything: officers reach the key check (400).
            "block-key" => (Post("/api/v1/blocked-keys", new { key = "not a key", note = "matrix" }), Expect(identity, 403, 400, 403, 403)),
            "lift-block" => (Post($"/api/v1/blocked-keys/{new string('0', 64)}/lift", new { note = "matrix" }), Expect(identity, 403, 404, 403, 403)),
            "audit-events" => (Get("/api/v1/audit/events?limit=5"), Expect(identity, 403, 403, 200, 200)),
            "audit-integrity" => (Get("/api/v1/audit/integrity"), Expect(identity, 403, 403, 200, 200)),
            _ => throw new ArgumentOutOfRangeException(nameof(endpoint)),
        };
        using (request)
        using (var response = await client.SendAsync(request))
        {
            Assert.Equal(expected, (int)response.StatusCode);
            if (expected >= 400)
            {
                Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString() ?? string.Empty, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Api_WithPortalCookieOnly_IsUnauthorized()
    {
        using var client = await fixture.SignedInAsync(PortalFixture.UserOf[O]);
        using var response = await client.GetAsync("/api/v1/certificates");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ApiToken_CreatedUsedRevoked_StopsWorking()
    {
        var tokens = fixture.Services.GetRequiredService<ApiTokens>();
        await using var scope = fixture.Services.CreateAsyncScope();
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<MiniCaUser>>().FindByNameAsync("rita"))!;
        var secret = await tokens.CreateAsync(user.Id, user.UserName!, "short-lived", 1);
        Assert.StartsWith("mca_", secret, StringComparison.Ordinal);

        using var client = fixture.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using (var response = await client.GetAsync("/api/v1/requests"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Only the hash is stored.
        var listed = await tokens.ListAsync(user.Id);
        var token = listed.Single(t => t.Name == "short-lived");
        Assert.Equal(secret[..10], token.Prefix);
        Assert.NotNull(token.LastUsedAt);

        await tokens.RevokeAsync(user.Id, user.UserName!, token.Id);
        using (var response = await client.GetAsync("/api/v1/requests"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "mca_" + new string('A', 43));
        using (var response = await client.GetAsync("/api/v1/requests"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    private static int Expect(string identity, int requester, int officer, int auditor, int administrator) => identity switch
    {
        Anonymous => 401,
        R => requester,
        O => officer,
        Au => auditor,
        _ => administrator,
    };

    private HttpClient Api(string role)
    {
        var client = fixture.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens[role]);
        return client;
    }

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Post(string path, object body) => new(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
}
