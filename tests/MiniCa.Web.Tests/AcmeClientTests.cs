using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Hosting.Users;
using MiniCa.TestSupport;

namespace MiniCa.Web.Tests;

/// <summary>
/// Real ACME clients from Debian (lego, certbot) against the running server on loopback: register, obtain,
/// renew, revoke; http-01, tls-alpn-01, dns-01 (with pebble-challtestsrv as the DNS server the CA asks), a
/// wildcard, External Account Binding; every chain checked by OpenSSL, every revocation by OCSP.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AcmeClientTests(PortalFixture fixture)
{
    private string Directory => new Uri(fixture.BaseAddress, "acme/directory").ToString();

    private string Root => Path.Combine(fixture.CaDirectory, "root.pem");

    private string Issuing => Path.Combine(fixture.CaDirectory, "issuing.pem");

    [Fact]
    public async Task Lego_Http01_RegistersObtainsRenewsRevokes()
    {
        await using var dns = await TestDnsServer.StartAsync(fixture);
        var lego = Prerequisites.RequireProgram("lego", "lego");
        var path = Work("lego-http");
        string[] common = ["--server", Directory, "--email", "lego@example.com", "--accept-tos", "--path", path, "--domains", "lego-http.example.com", "--http", "--http.port", $"127.0.0.1:{fixture.AcmeHttpPort}"];
        var run = await RunAsync(lego, [.. common, "run"]);
        Assert.True(run.ExitCode == 0, run.Combined);
        var certificate = Path.Combine(path, "certificates", "lego-http.example.com.crt");
        await VerifyChainAsync(certificate, "lego-http.example.com");
        var first = await SerialAsync(certificate);

        var renew = await RunAsync(lego, [.. common, "renew", "--days", "365", "--no-random-sleep"]);
        Assert.True(renew.ExitCode == 0, renew.Combined);
        await VerifyChainAsync(certificate, "lego-http.example.com");
        var second = await SerialAsync(certificate);
        Assert.NotEqual(first, second);

        var revoke = await RunAsync(lego, [.. common, "revoke", "--keep"]);
        Assert.True(revoke.ExitCode == 0, revoke.Combined);
        await AssertRevokedAsync(certificate);

        // The portal shows the orders.
        using var officer = await fixture.SignedInAsync(PortalFixture.UserOf[PortalRoles.Officer]);
        var page = await officer.GetStringAsync("/acme-orders");
        Assert.Contains("lego-http.example.com", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certbot_Http01_RegistersObtainsRenewsRevokes()
    {
        await using var dns = await TestDnsServer.StartAsync(fixture);
        var certbot = Prerequisites.RequireProgram("certbot", "certbot");
        var path = Work("certbot");
        string[] dirs = ["--config-dir", Path.Combine(path, "config"), "--work-dir", Path.Combine(path, "work"), "--logs-dir", Path.Combine(path, "logs"), "--server", Directory, "--non-interactive"];
        var obtain = await RunAsync(certbot, ["certonly", .. dirs, "--standalone", "--http-01-port", fixture.AcmeHttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--http-01-address", "127.0.0.1", "--register-unsafely-without-email", "--agree-tos", "-d", "certbot.example.com"]);
        Assert.True(obtain.ExitCode == 0, obtain.Combined);
        var certificate = Path.Combine(path, "config", "live", "certbot.example.com", "cert.pem");
        await VerifyChainAsync(certificate, "certbot.example.com");
        var first = await SerialAsync(certificate);

        var renew = await RunAsync(certbot, ["renew", .. dirs, "--force-renewal", "--no-random-sleep-on-renew", "--cert-name", "certbot.example.com"]);
        Assert.True(renew.ExitCode == 0, renew.Combined);
        var second = await SerialAsync(certificate);
        Assert.NotEqual(first, second);
        await VerifyChainAsync(certificate, "certbot.example.com");

        var revoke = await RunAsync(certbot, ["revoke", .. dirs, "--cert-path", certificate, "--reason", "superseded", "--no-delete-after-revoke"]);
        Assert.True(revoke.ExitCode == 0, revoke.Combined);
        await AssertRevokedAsync(certificate);
    }

    [Fact]
    public async Task Lego_Dns01Wildcard_IssuedWithTheTxtRecordFromTheTestDnsServer()
    {
        await using var dns = await TestDnsServer.StartAsync(fixture);
        var lego = Prerequisites.RequireProgram("lego", "lego");
        var path = Work("lego-dns");
        // lego's exec provider calls this script to publish the TXT record in the test DNS server.
        var script = Path.Combine(path, "dns.sh");
        await File.WriteAllTextAsync(script, $$"""
            #!/bin/sh
            if [ "$1" = "present" ]; then curl -sf -d "{\"host\":\"$2\",\"value\":\"$3\"}" http://127.0.0.1:{{fixture.AcmeDnsManagementPort}}/set-txt; fi
            if [ "$1" = "cleanup" ]; then curl -sf -d "{\"host\":\"$2\"}" http://127.0.0.1:{{fixture.AcmeDnsManagementPort}}/clear-txt; fi
            exit 0
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // *.wild and wild share one TXT name, so lego solves them one after the other, waiting
        // EXEC_SEQUENCE_INTERVAL between them (60 s by default: the test took 63 s).
        var run = await RunAsync(lego, ["--server", Directory, "--email", "dns@example.com", "--accept-tos", "--path", path,
            "--domains", "*.wild.example.com", "--domains", "wild.example.com", "--dns", "exec", "--dns.resolvers", $"127.0.0.1:{fixture.AcmeDnsPort}", "--dns.disable-cp", "run"],
            new Dictionary<string, string?> { ["EXEC_PATH"] = script, ["EXEC_POLLING_INTERVAL"] = "1", ["EXEC_PROPAGATION_TIMEOUT"] = "30", ["EXEC_SEQUENCE_INTERVAL"] = "1" });
        Assert.True(run.ExitCode == 0, run.Combined);
        var certificate = Path.Combine(path, "certificates", "_.wild.example.com.crt");
        await VerifyChainAsync(certificate, "anything.wild.example.com");
    }

    [Fact]
    public async Task Lego_TlsAlpn01_WithExternalAccountBinding_AttributedToThePortalUser()
    {
        await using var dns = await TestDnsServer.StartAsync(fixture);
        var lego = Prerequisites.RequireProgram("lego", "lego");
        var eab = await fixture.Services.GetRequiredService<MiniCa.Web.Portal.AcmeAdministration>()
            .CreateEabKeyAsync(PortalFixture.UserOf[PortalRoles.Requester], "oscar");
        var path = Work("lego-tls");
        var run = await RunAsync(lego, ["--server", Directory, "--email", "tls@example.com", "--accept-tos", "--path", path, "--eab", "--kid", eab.KeyId, "--hmac", eab.HmacKey,
            "--domains", "lego-tls.example.com", "--tls", "--tls.port", $"127.0.0.1:{fixture.AcmeTlsPort}", "run"]);
        Assert.True(run.ExitCode == 0, run.Combined);
        var certificate = Path.Combine(path, "certificates", "lego-tls.example.com.crt");
        await VerifyChainAsync(certificate, "lego-tls.example.com");

        // The certificate is the portal user's: they see it among their own.
        using var requester = await fixture.SignedInAsync(PortalFixture.UserOf[PortalRoles.Requester]);
        var serial = await SerialAsync(certificate);
        using var own = await requester.GetAsync($"/certificates/{serial}");
        Assert.Contains("lego-tls.example.com", await own.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // An EAB key binds one account only.
        var again = await RunAsync(lego, ["--server", Directory, "--email", "tls2@example.com", "--accept-tos", "--path", Work("lego-tls-2"), "--eab", "--kid", eab.KeyId, "--hmac", eab.HmacKey,
            "--domains", "lego-tls2.example.com", "--tls", "--tls.port", $"127.0.0.1:{fixture.AcmeTlsPort}", "run"]);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already been used", again.Combined, StringComparison.Ordinal);
    }

    private string Work(string name)
    {
        var path = Path.Combine(fixture.WorkDirectory, "acme-clients", name);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    private static Task<ProcessResult> RunAsync(string program, string[] arguments, Dictionary<string, string?>? environment = null)
    {
        var env = new Dictionary<string, string?>
        {
            // These may be preset on the machine; the directory is plain http, so none is needed.
            ["REQUESTS_CA_BUNDLE"] = null,
            ["SSL_CERT_FILE"] = null,
            ["CURL_CA_BUNDLE"] = null,
            ["LEGO_CA_CERTIFICATES"] = null,
        };
        foreach (var (key, value) in environment ?? [])
        {
            env[key] = value;
        }

        return ProcessRunner.RunAsync(program, arguments, env, timeout: TimeSpan.FromSeconds(120));
    }

    private async Task VerifyChainAsync(string certificate, string hostname)
    {
        var verify = await ProcessRunner.RunAsync(Prerequisites.RequireProgram("openssl", "openssl"),
            ["verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", hostname, "-CAfile", Root, "-untrusted", Issuing, certificate]);
        Assert.True(verify.ExitCode == 0, verify.Combined);
    }

    private static async Task<string> SerialAsync(string certificate)
    {
        var result = await ProcessRunner.RunAsync(Prerequisites.RequireProgram("openssl", "openssl"), ["x509", "-in", certificate, "-noout", "-serial"]);
        // "serial=0A1B…" → "a1b…", as MiniCa stores serials (lowercase hex, no leading zeros).
        return result.StandardOutput.Trim()["serial=".Length..].ToLowerInvariant().TrimStart('0');
    }

    private async Task AssertRevokedAsync(string certificate)
    {
        var ocsp = await ProcessRunner.RunAsync(Prerequisites.RequireProgram("openssl", "openssl"),
            ["ocsp", "-issuer", Issuing, "-cert", certificate, "-url", new Uri(fixture.BaseAddress, "ocsp").ToString(), "-CAfile", Root, "-no_nonce"]);
        Assert.True(ocsp.ExitCode == 0, ocsp.Combined);
        Assert.Contains(": revoked", ocsp.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>pebble-challtestsrv as the DNS server the CA asks: every name resolves to 127.0.0.1; TXT records set over HTTP.</summary>
    private sealed class TestDnsServer : IAsyncDisposable
    {
        private readonly Process _process;

        private TestDnsServer(Process process) => _process = process;

        public static async Task<TestDnsServer> StartAsync(PortalFixture fixture)
        {
            var program = Prerequisites.RequireProgram("pebble-challtestsrv", "pebble");
            var start = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "-dns01", $"127.0.0.1:{fixture.AcmeDnsPort}", "-http01", string.Empty, "-https01", string.Empty, "-tlsalpn01", string.Empty,
                         "-management", $"127.0.0.1:{fixture.AcmeDnsManagementPort}", "-defaultIPv6", string.Empty })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var client = new HttpClient();
            for (var i = 0; i < 100; i++)
            {
                try
                {
                    using var response = await client.PostAsJsonAsync($"http://127.0.0.1:{fixture.AcmeDnsManagementPort}/clear-txt", new { host = "probe.example.com." });
                    if (response.StatusCode is HttpStatusCode.OK)
                    {
                        return new TestDnsServer(process);
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(100);
            }

            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("pebble-challtestsrv did not start");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}
