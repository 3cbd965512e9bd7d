using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

public sealed class WebHostTests
{
    [Fact]
    public async Task FirstStart_EmbeddedDefaults_ProvisionsHsmRunsCeremonyAndServesCaCertificates()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-web");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");

        await using (var host = WebHostProcess.Start(directory.Path, FreePort.Next()))
        {
            await host.WaitUntilHealthyAsync();

            using var root = await host.Client.GetAsync("ca/root.crt");
            Assert.Equal(HttpStatusCode.OK, root.StatusCode);
            Assert.Equal("application/pkix-cert", root.Content.Headers.ContentType?.MediaType);
            Assert.Equal(File.ReadAllBytes(directory.Combine("data", "ca", "root.crt")), await root.Content.ReadAsByteArrayAsync());
            Assert.NotNull(root.Headers.ETag);
            Assert.True(root.Headers.CacheControl?.MaxAge > TimeSpan.Zero);

            using var issuing = await host.Client.GetAsync("ca/issuing.crt");
            Assert.Equal(File.ReadAllBytes(directory.Combine("data", "ca", "issuing.crt")), await issuing.Content.ReadAsByteArrayAsync());

            using var health = JsonDocument.Parse(await host.Client.GetStringAsync("healthz"));
            Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
            Assert.Equal("up", health.RootElement.GetProperty("checks").GetProperty("hsm").GetProperty("data").GetProperty("embedded").GetProperty("state").GetString());
            var database = health.RootElement.GetProperty("checks").GetProperty("database");
            Assert.Equal("Healthy", database.GetProperty("status").GetString());
            Assert.Equal(new DriveInfo(directory.Path).AvailableFreeSpace, database.GetProperty("data").GetProperty("freeBytes").GetInt64(), 64L * 1024 * 1024);

            // The CRL publisher generated both CRLs at start.
            using var crl = await host.Client.GetAsync("crl/issuing.crl");
            Assert.Equal(HttpStatusCode.OK, crl.StatusCode);
            Assert.Equal("application/pkix-crl", crl.Content.Headers.ContentType?.MediaType);
            Assert.True(crl.Headers.CacheControl?.MaxAge > TimeSpan.FromHours(23));
            var crlFile = directory.Combine("issuing.crl");
            File.WriteAllBytes(crlFile, await crl.Content.ReadAsByteArrayAsync());
            var check = await ProcessRunner.RunAsync(Prerequisites.RequireProgram("openssl", "openssl"),
                ["crl", "-inform", "DER", "-in", crlFile, "-CAfile", directory.Combine("data", "ca", "issuing.pem"), "-noout"]);
            Assert.Contains("verify OK", check.StandardError, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("crl/root.crl")).StatusCode);

            // The portal sends a visitor to sign in (its static assets are served in Production too).
            var page = await host.Client.GetStringAsync("/");
            Assert.Contains("Sign in", page, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("_content/MudBlazor/MudBlazor.min.css")).StatusCode);

            // ARCHITECTURE.md §3: the bootstrap administrator's generated password is printed once and kept 0600.
            var passwordFile = directory.Combine("data", "secrets", "admin-password");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));
            var password = File.ReadAllText(passwordFile).Trim();
            Assert.Contains("password (shown once): " + password, host.Output, StringComparison.Ordinal);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(directory.Combine("data", "secrets", "hsm-user-pin")));
        Assert.True(File.Exists(directory.Combine("data", "hsm", "softhsm2.conf")));

        // A second start reuses the token and the CA: same root certificate, no second ceremony. It asks for more free
        // space than any disk has: the database is reported degraded (a warning), and the CA stays in service (200).
        var firstRoot = File.ReadAllBytes(directory.Combine("data", "ca", "root.crt"));
        await using (var again = WebHostProcess.Start(directory.Path, FreePort.Next(), new Dictionary<string, string?> { ["MINICA_Database__MinFreeSpaceMiB"] = "16777216" }))
        {
            await again.WaitUntilHealthyAsync();
            Assert.Equal(firstRoot, await again.Client.GetByteArrayAsync("ca/root.crt"));
            Assert.DoesNotContain("key ceremony", again.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("shown once", again.Output, StringComparison.Ordinal);
            using var health = await again.Client.GetAsync("healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            var database = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("database");
            Assert.Equal("Degraded", database.GetProperty("status").GetString());
            Assert.Contains("the disk holding the database has", database.GetProperty("description").GetString(), StringComparison.Ordinal);

            // A monitor polling /healthz does not fill the log: the change is logged once, not each poll.
            using (await again.Client.GetAsync("healthz"))
            {
            }

            Assert.Single(again.Output.Split('\n'), l => l.Contains("Health: database is degraded: ", StringComparison.Ordinal));
            Assert.DoesNotContain("Microsoft.Extensions.Diagnostics.HealthChecks", again.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CaCertificate_UnknownAuthority_Is404ProblemDocument()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-web");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());
        await host.WaitUntilHealthyAsync();

        using var response = await host.Client.GetAsync("ca/nope.crt");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no authority named 'nope'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidConfiguration_ExitsWithOneLineNamingFileAndKey()
    {
        using var directory = new TempDirectory("minica-web");
        var file = Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data", "Hsm": { "MaxSessions": 0 } }""");
        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());

        await StopsWithOneLineAsync(host, $"minica-web: error: Configuration error in {file}:");

        Assert.Contains("Hsm:MaxSessions: 0 is out of range", host.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("data")));
    }

    [Fact]
    public async Task Start_DataDirectoryBlockedByAFile_ExitsWithOneLineNamingTheFolder()
    {
        using var directory = new TempDirectory("minica-web");
        File.WriteAllText(directory.Combine("blocker"), "a file where a folder should go");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "blocker/data" }""");
        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());

        await StopsWithOneLineAsync(host, $"minica-web: error: Cannot create the folder {directory.Combine("blocker", "data")}:");

        Assert.Contains("Check DataDirectory", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DatabaseFileIsNotADatabase_ExitsWithOneLineNamingTheFileAndLeavesIt()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-web");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        Directory.CreateDirectory(directory.Combine("data"));
        var database = directory.Combine("data", "minica.db");
        var garbage = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("not a database; ", 4096)));
        File.WriteAllBytes(database, garbage);
        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());

        await StopsWithOneLineAsync(host, $"minica-web: error: The issuance database {database} cannot be opened and brought up to date: SQLite Error 26");

        // The file is the operator's to inspect: left exactly as it was, and no CA was made beside it.
        Assert.Equal(garbage, File.ReadAllBytes(database));
        Assert.False(Directory.Exists(directory.Combine("data", "ca")));
    }

    [Fact]
    public async Task Start_HttpsUrl_WithoutCertificateStopsAtOnce_WithOneServesTheCa()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-web");
        var port = FreePort.Next();
        var https = new Dictionary<string, string?> { ["MINICA_Urls"] = $"https://localhost:{port}" };
        var file = Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        await using (var refused = WebHostProcess.Start(directory.Path, port, https))
        {
            await StopsWithOneLineAsync(refused, $"minica-web: error: Configuration error in {file}: Urls (set by the environment variable MINICA_Urls): 'https://localhost:{port}' is https, and no server certificate is configured");
            Assert.False(Directory.Exists(directory.Combine("data")));
        }

        // The same URL with a certificate in ca.config.json's Kestrel section (as a TLS certificate from the
        // organisation's own PKI would be configured).
        using (var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(directory.Combine("tls.crt"), certificate.ExportCertificatePem());
            File.WriteAllText(directory.Combine("tls.key"), key.ExportPkcs8PrivateKeyPem());
        }

        Minica.WriteConfig(directory.Path, $$"""
            { "DataDirectory": "data", "Kestrel": { "Certificates": { "Default": { "Path": "{{directory.Combine("tls.crt")}}", "KeyPath": "{{directory.Combine("tls.key")}}" } } } }
            """);
        await using var served = WebHostProcess.Start(directory.Path, port, https);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Subject == "CN=localhost" };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        HttpResponseMessage? health = null;
        while (health is null && DateTime.UtcNow < deadline && !served.HasExited)
        {
            try
            {
                health = await client.GetAsync("healthz");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
        }

        Assert.True(health is not null, "the host did not answer over https: " + served.Output);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(File.ReadAllBytes(directory.Combine("data", "ca", "root.crt")), await client.GetByteArrayAsync("ca/root.crt"));
        health.Dispose();
    }

    [Fact]
    public async Task Start_PortHeldByAnotherProcess_ExitsWithOneLineNamingTheUrl()
    {
        using var directory = new TempDirectory("minica-web");
        var file = Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        var port = FreePort.Next();
        using var holder = new TcpListener(IPAddress.Loopback, port);
        holder.Start();
        await using var host = WebHostProcess.Start(directory.Path, port);

        await StopsWithOneLineAsync(host, $"minica-web: error: Configuration error in {file}: Urls (set by the environment variable MINICA_Urls): 'http://localhost:{port}' cannot be listened on: port {port} is in use by another process");

        // Checked before anything starts: no token, no database, no key ceremony.
        Assert.False(Directory.Exists(directory.Combine("data")));
    }

    [Fact]
    public async Task Start_TokenStoreLostOrOfAnotherCa_RefusesNamingTheStore_RestoredOrMovedServesTheSameCa()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-web");
        var ours = directory.Combine("ours");
        var theirs = directory.Combine("theirs");
        foreach (var ca in new[] { ours, theirs })
        {
            Directory.CreateDirectory(ca);
            Minica.WriteConfig(ca, """{ "DataDirectory": "data" }""");
            await using var host = WebHostProcess.Start(ca, FreePort.Next());
            await host.WaitUntilHealthyAsync();
        }

        var root = File.ReadAllBytes(Path.Combine(ours, "data", "ca", "root.crt"));
        var tokens = Path.Combine(ours, "data", "hsm", "tokens");
        var secrets = Path.Combine(ours, "data", "secrets");
        var saved = directory.Combine("saved");
        Directory.CreateDirectory(saved);
        Directory.Move(tokens, Path.Combine(saved, "tokens"));
        foreach (var pin in new[] { "hsm-user-pin", "hsm-so-pin" })
        {
            File.Copy(Path.Combine(secrets, pin), Path.Combine(saved, pin));
        }

        // The token store is gone, its PINs are not: refused before a new empty token is made in its place.
        await using (var lost = WebHostProcess.Start(ours, FreePort.Next()))
        {
            await StopsWithOneLineAsync(lost, $"minica-web: error: The embedded token store {tokens} holds no token 'MiniCa', but its PIN files in {secrets} exist");
            Assert.False(Directory.Exists(tokens));
        }

        // Another CA's token and PINs: the keys are there under the same labels, but they are not this CA's keys.
        DirectoryCopy.Copy(Path.Combine(theirs, "data", "hsm", "tokens"), tokens);
        foreach (var pin in new[] { "hsm-user-pin", "hsm-so-pin" })
        {
            File.Copy(Path.Combine(theirs, "data", "secrets", pin), Path.Combine(secrets, pin), overwrite: true);
        }

        await using (var foreign = WebHostProcess.Start(ours, FreePort.Next()))
        {
            await StopsWithOneLineAsync(foreign, "minica-web: error: The issuance database records authorities whose keys are not in the HSM");
            Assert.Contains("authority 'root' (serial ", foreign.Output, StringComparison.Ordinal);
            Assert.Contains("the key 'issuing' on embedded is another key than its certificate's", foreign.Output, StringComparison.Ordinal);
            Assert.Contains($"restore {Path.Combine(ours, "data", "hsm")} together with {secrets}", foreign.Output, StringComparison.Ordinal);
        }

        // The CLI's signing commands check the same before they sign.
        var crl = await Minica.RunAsync(ours, ["crl"]);
        Assert.Equal(1, crl.ExitCode);
        Assert.Contains("minica: error: The issuance database records authorities whose keys are not in the HSM", crl.StandardError, StringComparison.Ordinal);

        // Restored from the same backup: the same CA serves again.
        Directory.Delete(tokens, recursive: true);
        Directory.Move(Path.Combine(saved, "tokens"), tokens);
        foreach (var pin in new[] { "hsm-user-pin", "hsm-so-pin" })
        {
            File.Copy(Path.Combine(saved, pin), Path.Combine(secrets, pin), overwrite: true);
        }

        await using (var restored = WebHostProcess.Start(ours, FreePort.Next()))
        {
            await restored.WaitUntilHealthyAsync();
            Assert.Equal(root, await restored.Client.GetByteArrayAsync("ca/root.crt"));
            Assert.DoesNotContain("key ceremony", restored.Output, StringComparison.Ordinal);
        }

        // Moved to another path: the generated softhsm2.conf is pointed at the moved store (it named the old path,
        // which no longer exists), and the same CA serves from there.
        var moved = directory.Combine("moved");
        Directory.Move(ours, moved);
        await using (var relocated = WebHostProcess.Start(moved, FreePort.Next()))
        {
            await relocated.WaitUntilHealthyAsync();
            Assert.Equal(root, await relocated.Client.GetByteArrayAsync("ca/root.crt"));
        }

        Assert.Contains($"directories.tokendir = {Path.Combine(moved, "data", "hsm", "tokens")}\n", File.ReadAllText(Path.Combine(moved, "data", "hsm", "softhsm2.conf")), StringComparison.Ordinal);
    }

    /// <summary>The host ends by itself, non-zero, having said <paramref name="line"/> and shown no stack trace.</summary>
    private static async Task StopsWithOneLineAsync(WebHostProcess host, string line)
    {
        Assert.NotEqual(0, await host.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(line, host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
    }
}
