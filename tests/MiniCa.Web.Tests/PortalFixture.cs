using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Data.Entities;
using MiniCa.Hosting.Users;
using MiniCa.TestSupport;
using MiniCa.Web.Security;

namespace MiniCa.Web.Tests;

/// <summary>
/// The whole web host in this process on a real Kestrel port (so a real browser can reach it): embedded SoftHSM2
/// token (this process's only store), its database (a SQLite file here; PostgreSQL in MiniCa.Web.Postgres.Tests,
/// which compiles these same tests; see PortalDatabase.cs), the shipped profiles plus a two-officer profile, and one
/// user per role. Tests share it and run one after another.
/// </summary>
public sealed partial class PortalFixture : IAsyncLifetime, IDisposable
{
    public const string Password = "correct-horse-battery-staple";
    public const string AdminPassword = "bootstrap-admin-password";

    private readonly TempDirectory _directory = new("minica-web");
    private WebApplicationFactory<Program>? _factory;

    /// <summary>User name per role (and one user who is both requester and officer).</summary>
    public static IReadOnlyDictionary<string, string> UserOf { get; } = new Dictionary<string, string>
    {
        [PortalRoles.Requester] = "rita",
        [PortalRoles.Officer] = "oscar",
        [PortalRoles.Auditor] = "audrey",
        [PortalRoles.Administrator] = "admin",
    };

    public const string SecondOfficer = "olivia";

    /// <summary>The issuing CA's nameConstraints exclude this domain (and every name under it).</summary>
    public const string ExcludedDomain = "excluded.example.com";
    public const string RequesterOfficer = "rob";

    public Uri BaseAddress { get; private set; } = null!;

    public int AcmeHttpPort { get; private set; }

    public int AcmeTlsPort { get; private set; }

    public int AcmeDnsPort { get; private set; }

    public int AcmeDnsManagementPort { get; private set; }

    public IServiceProvider Services => _factory!.Services;

    /// <summary>Every warning and error the host has logged so far.</summary>
    public LogRecorder Log { get; } = new();

    /// <summary>The warnings and errors the host logged while it started, before any test ran.</summary>
    public IReadOnlyList<LogRecorder.LogEntry> StartupLog { get; private set; } = [];

    public string CaDirectory => _directory.Combine("data", "ca");

    public string WorkDirectory => _directory.Path;

    public async Task InitializeAsync()
    {
        Prerequisites.RequireSoftHsm();
        TestPolicies.Prepare(_directory.Path);
        var port = FreePort.Next();
        BaseAddress = new Uri($"http://localhost:{port}");
        // ACME validation on this machine: the challenge ports the clients serve on, and a test DNS server
        // (pebble-challtestsrv, started by the ACME tests) that answers 127.0.0.1 for every name.
        (AcmeHttpPort, AcmeTlsPort, AcmeDnsPort, AcmeDnsManagementPort) = (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
        var database = await StartDatabaseAsync();
        // Audit anchors reach events written just now: the tests' events are seconds old.
        File.WriteAllText(_directory.Combine("ca.config.json"), $$"""
            {
              {{database}}
              "DataDirectory": "data", "PublicBaseUrl": "{{BaseAddress}}", "Urls": "http://localhost:{{port}}",
              "Acme": { "Validation": { "HttpPort": {{AcmeHttpPort}}, "TlsPort": {{AcmeTlsPort}}, "DnsResolver": "127.0.0.1:{{AcmeDnsPort}}", "TimeoutSeconds": 5 } },
              "Audit": { "AnchorSettledSeconds": 0 },
              "Authorities": {
                "root": { "Subject": "CN=MiniCa Root CA,O=MiniCa", "KeyAlgorithm": "P-384", "ValidityDays": 7305 },
                "issuing": { "Subject": "CN=MiniCa Issuing CA,O=MiniCa", "Issuer": "root", "KeyAlgorithm": "P-256", "ValidityDays": 3652, "PathLength": 0,
                  "NameConstraints": { "Excluded": [ "dns:{{ExcludedDomain}}" ] } }
              }
            }
            """);
        // Program reads its configuration before the host exists, so it is pointed at the file by the environment.
        Environment.SetEnvironmentVariable("MINICA_CONFIG", _directory.Combine("ca.config.json"));
        Environment.SetEnvironmentVariable(UserAdministration.BootstrapPasswordVariable, AdminPassword);
        // Production, as users run it (the factory's default is Development).
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host => host.UseEnvironment("Production").ConfigureLogging(logging => logging.AddProvider(Log)));
        _factory.UseKestrel();
        _factory.StartServer();
        var addresses = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        if (!addresses.Any(a => a.Contains($":{port}", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException("The web host listens on " + string.Join(", ", addresses) + ", not on port " + port);
        }

        await using var scope = _factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserAdministration>();
        foreach (var (role, name) in UserOf.Where(u => u.Value != "admin"))
        {
            await users.CreateAsync(name, null, [role], Password, "fixture");
        }

        await users.CreateAsync(SecondOfficer, null, [PortalRoles.Officer], Password, "fixture");
        await users.CreateAsync(RequesterOfficer, null, [PortalRoles.Requester, PortalRoles.Officer], Password, "fixture");
        StartupLog = Log.Entries;
    }

    /// <summary>A client that keeps cookies and does not follow redirects (so a redirect to sign-in can be seen).</summary>
    public HttpClient Anonymous()
    {
        var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true };
        return new HttpClient(handler) { BaseAddress = BaseAddress };
    }

    /// <summary>An API client of <paramref name="userName"/>, with a personal API token called <paramref name="tokenName"/> (one day).</summary>
    public async Task<HttpClient> ApiClientAsync(string userName, string tokenName)
    {
        await using var scope = Services.CreateAsyncScope();
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<MiniCaUser>>().FindByNameAsync(userName))!;
        var secret = await Services.GetRequiredService<ApiTokens>().CreateAsync(user.Id, userName, tokenName, 1);
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return client;
    }

    /// <summary>A client signed in as <paramref name="userName"/> through the real sign-in form.</summary>
    public async Task<HttpClient> SignedInAsync(string userName, string? password = null)
    {
        var client = Anonymous();
        using var response = await SignInAsync(client, userName, password ?? (userName == "admin" ? AdminPassword : Password));
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.Contains("error", StringComparison.Ordinal) != false)
        {
            throw new InvalidOperationException($"sign-in as {userName} failed: {(int)response.StatusCode} {response.Headers.Location}");
        }

        return client;
    }

    /// <summary>Posts the sign-in form, antiforgery token included, and returns the response.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string userName, string password)
    {
        var page = await client.GetStringAsync("/account/login");
        var token = AntiforgeryToken(page);
        return await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["userName"] = userName,
            ["password"] = password,
            ["returnUrl"] = "/",
        }));
    }

    public static string AntiforgeryToken(string html) =>
        TokenPattern().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException("no antiforgery token in the page");

    /// <summary>A CSR made the way a subscriber would, with the platform's crypto, as PEM.</summary>
    public static string CsrPem(params string[] names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return CsrPem(key, names);
    }

    /// <summary>A CSR for <paramref name="key"/> (the first name is the CN, every name a DNS SAN), PEM.</summary>
    public static string CsrPem(ECDsa key, params string[] names)
    {
        var request = new CertificateRequest("CN=" + names[0], key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        return PemEncoding.WriteString("CERTIFICATE REQUEST", request.CreateSigningRequest());
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        await StopDatabaseAsync();
        _directory.Dispose();
    }

    public void Dispose()
    {
        _factory?.Dispose();
        _directory.Dispose();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PortalCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "portal";
}
