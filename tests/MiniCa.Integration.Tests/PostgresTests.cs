using System.Collections.Concurrent;
using System.Net;
using Microsoft.EntityFrameworkCore;
using MiniCa.Data;
using MiniCa.Data.Postgres;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>A throw-away PostgreSQL server from Debian's package, for the tests that run the CA on it.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>
/// The CA on a real PostgreSQL server (<c>Database:Provider</c> <c>Postgres</c>): the migrations build the model,
/// and the CLI's processes, side by side, issue, revoke and publish CRLs that OpenSSL checks.
/// </summary>
public sealed class PostgresTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    /// <summary>Writes a ca.config.json in <paramref name="directory"/> for a CA on the test server's <paramref name="database"/>.</summary>
    private void WriteConfigOn(string directory, string database) => Minica.WriteConfig(directory, $$"""
        { "DataDirectory": "data",
          "Database": { "Provider": "Postgres", "ConnectionString": "{{postgres.Server.ConnectionString(database)}}" } }
        """);

    [Fact]
    public async Task Migrations_OnAnEmptyDatabase_BuildTheModelWithNothingPending()
    {
        await postgres.Server.CreateDatabaseAsync("migrations");
        var builder = new DbContextOptionsBuilder<MiniCaDbContext>();
        PostgresDatabase.Use(builder, postgres.Server.ConnectionString("migrations"));
        await using var db = new MiniCaDbContext(builder.Options);

        await db.Database.MigrateAsync();

        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.False(db.Database.HasPendingModelChanges(), "the model has changed since the last PostgreSQL migration: add one (dotnet ef migrations add NAME in src/MiniCa.Data.Postgres)");
        // The partial index of revoked certificates, and instants as timestamptz.
        Assert.Contains("WHERE ((\"Status\")::text = 'Revoked'::text)", await postgres.Server.QueryAsync("migrations", "SELECT indexdef FROM pg_indexes WHERE indexname = 'IX_Certificates_Revoked'"), StringComparison.Ordinal);
        Assert.Equal("timestamp with time zone", await postgres.Server.QueryAsync("migrations", "SELECT data_type FROM information_schema.columns WHERE table_name = 'Certificates' AND column_name = 'NotAfter'"));
    }

    [Fact]
    public async Task PasswordSource_Unset_IsAStartErrorNamingIt_ThenSetTheCaStarts()
    {
        await postgres.Server.CreateDatabaseAsync("password");
        using var directory = new TempDirectory("minica-pg-password");
        Minica.WriteConfig(directory.Path, $$"""
            { "DataDirectory": "data",
              "Database": { "Provider": "Postgres", "ConnectionString": "{{postgres.Server.ConnectionString("password")}}", "PasswordSource": "env:MINICA_TEST_DB_PASSWORD" } }
            """);

        var unset = await Minica.RunAsync(directory.Path, ["requests"], new Dictionary<string, string?> { ["MINICA_TEST_DB_PASSWORD"] = null });
        Assert.Equal(1, unset.ExitCode);
        Assert.Contains("Database:PasswordSource 'env:MINICA_TEST_DB_PASSWORD': environment variable MINICA_TEST_DB_PASSWORD is not set.", unset.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", unset.Combined, StringComparison.Ordinal);

        // The test server trusts its socket, so any password opens it; the source is read all the same.
        var set = await Minica.RunAsync(directory.Path, ["requests"], new Dictionary<string, string?> { ["MINICA_TEST_DB_PASSWORD"] = "s3cret-from-the-environment" });
        Assert.True(set.ExitCode == 0, set.Combined);
        Assert.DoesNotContain("s3cret", set.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebHost_OnPostgres_StartsSignsInAndSeesTheCliRevocationThroughOcsp()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        await postgres.Server.CreateDatabaseAsync("web");
        using var directory = new TempDirectory("minica-pg-web");
        WriteConfigOn(directory.Path, "web");
        var password = "a-long-enough-password-for-pg";
        var added = await Minica.RunAsync(directory.Path, ["user", "add", "--name", "audrey", "--role", "Auditor"], new Dictionary<string, string?> { ["MINICA_USER_PASSWORD"] = password });
        Assert.True(added.ExitCode == 0, added.Combined);

        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());
        await host.WaitUntilHealthyAsync();
        var environment = new Dictionary<string, string?> { ["MINICA_PublicBaseUrl"] = host.BaseAddress.AbsoluteUri };
        var csr = await ProcessRunner.RunAsync(openssl, [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "web.key",
            "-subj", "/CN=web.example.internal", "-addext", "subjectAltName=DNS:web.example.internal", "-out", "web.csr"], workingDirectory: directory.Path);
        Assert.True(csr.ExitCode == 0, csr.Combined);
        var issue = await Minica.RunAsync(directory.Path, ["issue", "--csr", "web.csr", "--profile", "tls-server", "--out", "web.pem"], environment);
        Assert.True(issue.ExitCode == 0, issue.Combined);
        Task<ProcessResult> OcspAsync() => ProcessRunner.RunAsync(openssl, [
            "ocsp", "-issuer", "data/ca/issuing.pem", "-cert", "web.pem", "-url", new Uri(host.BaseAddress, "ocsp").AbsoluteUri, "-CAfile", "data/ca/root.pem", "-no_nonce"], workingDirectory: directory.Path);
        Assert.Contains("web.pem: good", (await OcspAsync()).StandardOutput, StringComparison.Ordinal);

        var serial = (await ProcessRunner.RunAsync(openssl, ["x509", "-in", "web.pem", "-noout", "-serial"], workingDirectory: directory.Path)).StandardOutput.Trim()["serial=".Length..];
        var revoke = await Minica.RunAsync(directory.Path, ["revoke", "--serial", serial, "--reason", "superseded"], environment);
        Assert.True(revoke.ExitCode == 0, revoke.Combined);
        // The host learns of another process's revocation from the database within a second.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var revoked = await OcspAsync();
        Assert.Contains("web.pem: revoked", revoked.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Response verify OK", revoked.Combined, StringComparison.Ordinal);

        // Identity on PostgreSQL: the auditor signs in and searches the audit log, case-blind.
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var client = new HttpClient(handler) { BaseAddress = host.BaseAddress };
        var page = await client.GetStringAsync("/account/login");
        using var signIn = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(CliUserTests.AntiforgeryToken().Match(page).Groups[1].Value),
            ["userName"] = "audrey",
            ["password"] = password,
            ["returnUrl"] = "/audit",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var csv = await client.GetStringAsync("/portal/audit.csv?q=WEB.EXAMPLE.INTERNAL");
        Assert.Contains("certificate.issued", csv, StringComparison.Ordinal);
        Assert.Contains(serial.TrimStart('0').ToLowerInvariant(), csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_TwoMachinesSharingTheDatabaseAndTheHsm_WaitForTheDatabasesLock_OneCeremonyMakesTheCa()
    {
        var util = Prerequisites.RequireProgram("softhsm2-util", "softhsm2");
        var tool = Prerequisites.RequireProgram("pkcs11-tool", "opensc");
        await postgres.Server.CreateDatabaseAsync("shared");
        // One HSM (a SoftHSM2 store both processes open) and one database; two "machines": two folders, each its own
        // data directory, so the data directory's file lock does not keep them apart.
        using var hsm = new TempDirectory("minica-pg-hsm");
        Directory.CreateDirectory(hsm.Combine("tokens"));
        File.WriteAllText(hsm.Combine("softhsm2.conf"), $"directories.tokendir = {hsm.Combine("tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
        var environment = new Dictionary<string, string?> { ["SOFTHSM2_CONF"] = hsm.Combine("softhsm2.conf"), ["TEST_HSM_PIN"] = "shared-user-pin-4321" };
        var token = await ProcessRunner.RunAsync(util, ["--init-token", "--free", "--label", "Shared", "--so-pin", "shared-so-pin-1234", "--pin", "shared-user-pin-4321"], environment);
        Assert.True(token.ExitCode == 0, token.Combined);
        using var machineA = new TempDirectory("minica-pg-a");
        using var machineB = new TempDirectory("minica-pg-b");
        foreach (var machine in new[] { machineA, machineB })
        {
            Minica.WriteConfig(machine.Path, $$"""
                { "DataDirectory": "data",
                  "Hsm": { "Members": [ { "Name": "shared", "ModulePath": "{{Prerequisites.SoftHsmModule}}", "TokenLabel": "Shared", "PinSource": "env:TEST_HSM_PIN" } ] },
                  "Database": { "Provider": "Postgres", "ConnectionString": "{{postgres.Server.ConnectionString("shared")}}" } }
                """);
        }

        // Another session holds the ceremony's lock until both machines wait for it (each has polled it).
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(postgres.Server.ConnectionString("shared")) { Pooling = false };
        await using var holder = new Npgsql.NpgsqlConnection(settings.ConnectionString);
        await holder.OpenAsync();
        await using (var take = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(1298744161, 2)", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        Task<ProcessResult>[] inits = [Minica.RunAsync(machineA.Path, ["init"], environment), Minica.RunAsync(machineB.Path, ["init"], environment)];
        var both = Task.WhenAll(inits);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await postgres.Server.QueryAsync("shared", "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory_lock(%'") != "2")
        {
            if (inits.FirstOrDefault(i => i.IsCompleted) is { } ended)
            {
                Assert.Fail("a ceremony ended while another session held its lock: " + (await ended).Combined);
            }

            Assert.True(DateTime.UtcNow < deadline, "the two ceremonies never waited for the lock");
            await Task.Delay(100);
        }

        await holder.CloseAsync();
        var runs = await both;

        Assert.All(runs, run => Assert.Contains("Another process sharing the database is running the key ceremony", run.Combined, StringComparison.Ordinal));
        var made = Assert.Single(runs, run => run.ExitCode == 0);
        Assert.Contains("object=root", made.StandardOutput, StringComparison.Ordinal);
        var refused = Assert.Single(runs, run => run.ExitCode != 0);
        Assert.Contains("already initialised", refused.StandardError, StringComparison.Ordinal);
        // One ceremony's keys in the HSM and its authorities in the database: root and issuing once.
        var keys = await ProcessRunner.RunAsync(tool, ["--module", Prerequisites.SoftHsmModule, "--token-label", "Shared", "--login", "--pin", "shared-user-pin-4321", "--list-objects", "--type", "privkey"], environment);
        Assert.True(keys.ExitCode == 0, keys.Combined);
        Assert.Equal(2, keys.StandardOutput.Split("Private Key Object").Length - 1);
        Assert.Equal("2", await postgres.Server.QueryAsync("shared", "SELECT count(*) FROM \"Authorities\""));
        // The lock was released: no session holds it now.
        Assert.Equal("0", await postgres.Server.QueryAsync("shared", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1298744161 AND objid = 2"));
    }

    [Fact]
    public async Task KilledUnderLoad_OnPostgres_EveryCertificateHandedOutIsRecorded_TheCaIssuesAgain()
    {
        await postgres.Server.CreateDatabaseAsync("crash");
        using var directory = new TempDirectory("minica-pg-crash");
        WriteConfigOn(directory.Path, "crash");
        await CrashTests.KillRepeatedlyUnderLoadAsync(directory.Path, async () =>
        {
            var rows = new Dictionary<string, CrashTests.CertificateRow>(StringComparer.Ordinal);
            await using var connection = new Npgsql.NpgsqlConnection(postgres.Server.ConnectionString("crash"));
            await connection.OpenAsync();
            await using var query = connection.CreateCommand();
            query.CommandText = "SELECT \"SerialHex\", \"Status\", \"Der\", \"TbsDer\" FROM \"Certificates\"";
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows[reader.GetString(0)] = new CrashTests.CertificateRow(reader.GetString(1), reader.IsDBNull(2) ? null : (byte[])reader[2], (byte[])reader[3]);
            }

            return rows;
        });
    }

    [Fact]
    public async Task WebHost_DatabaseServerStoppedAndStarted_StaysUpSaysSoAndGoesOn()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        await postgres.Server.CreateDatabaseAsync("outage");
        using var directory = new TempDirectory("minica-pg-outage");
        WriteConfigOn(directory.Path, "outage");
        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());
        await host.WaitUntilHealthyAsync();
        var environment = new Dictionary<string, string?> { ["MINICA_PublicBaseUrl"] = host.BaseAddress.AbsoluteUri };
        Task<string> IssueAsync(string name) => Minica.IssueForNewKeyAsync(directory.Path, name, environment);

        Task<ProcessResult> OcspAsync(string certificate) => ProcessRunner.RunAsync(openssl, [
            "ocsp", "-issuer", "data/ca/issuing.pem", "-cert", certificate, "-url", new Uri(host.BaseAddress, "ocsp").AbsoluteUri, "-CAfile", "data/ca/root.pem", "-no_nonce"], workingDirectory: directory.Path);
        var known = await IssueAsync("known.example.internal");
        var unknown = await IssueAsync("unknown.example.internal");
        Assert.Contains(": good", (await OcspAsync(known)).StandardOutput, StringComparison.Ordinal);

        await postgres.Server.StopAsync();
        try
        {
            // The background work (OCSP pre-signing every second, the revocation poll) meets the outage.
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.False(host.HasExited, "the web host stopped when the database did: " + host.Output);
            using var health = await host.Client.GetAsync("healthz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("the database does not answer", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            // A cached answer is served; a certificate never asked about gets OCSP's tryLater, never a server error.
            Assert.Contains("known.example.internal.pem: good", (await OcspAsync(known)).StandardOutput, StringComparison.Ordinal);
            Assert.Contains("Responder Error: trylater (3)", (await OcspAsync(unknown)).Combined, StringComparison.Ordinal);
            // ACME's nonces live in the database: a client is told to come back (503), not a server error.
            using var nonce = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "acme/new-nonce"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, nonce.StatusCode);
            Assert.DoesNotContain("Unhandled exception", host.Output, StringComparison.Ordinal);
            // The outage is logged where it is found, once, not with a stack trace per look or per request.
            Assert.DoesNotContain("fail: Microsoft.EntityFrameworkCore", host.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("An unhandled exception has occurred while executing the request", host.Output, StringComparison.Ordinal);
            Assert.Single(host.Output.Split('\n'), l => l.Contains("OCSP: the issuance database does not answer", StringComparison.Ordinal));
        }
        finally
        {
            await postgres.Server.StartAgainAsync();
        }

        await host.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));
        using (var nonce = await host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "acme/new-nonce")))
        {
            Assert.Equal(HttpStatusCode.OK, nonce.StatusCode);
        }

        var later = await IssueAsync("later.example.internal");
        // OCSP looks at the database again within two seconds of its return (meanwhile: tryLater, without waiting).
        async Task<string> AnsweredAsync(string certificate)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                var answer = (await OcspAsync(certificate)).Combined;
                if (!answer.Contains("trylater", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
                {
                    return answer;
                }

                await Task.Delay(250);
            }
        }

        Assert.Contains(": good", await AnsweredAsync(later), StringComparison.Ordinal);
        Assert.Contains(": good", await AnsweredAsync(unknown), StringComparison.Ordinal);
        Assert.False(host.HasExited);
        // /healthz, polled through the outage and after it, logged the change each way once.
        Assert.Single(host.Output.Split('\n'), l => l.Contains("Health: database is unhealthy: the database does not answer", StringComparison.Ordinal));
        Assert.Single(host.Output.Split('\n'), l => l.Contains("Health: database is healthy again", StringComparison.Ordinal));
        Assert.DoesNotContain("Microsoft.Extensions.Diagnostics.HealthChecks", host.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_OnPostgres_ConcurrentIssuanceRevocationAndCrl_OpenSslAgrees()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        await postgres.Server.CreateDatabaseAsync("cli");
        using var directory = new TempDirectory("minica-pg-cli");
        Minica.WriteConfig(directory.Path, $$"""
            { "DataDirectory": "data", "PublicBaseUrl": "http://ca.example.test/",
              "Database": { "Provider": "Postgres", "ConnectionString": "{{postgres.Server.ConnectionString("cli")}}" } }
            """);
        var init = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);

        async Task OpenSslAsync(params string[] args)
        {
            var result = await ProcessRunner.RunAsync(openssl, args, workingDirectory: directory.Path);
            Assert.True(result.ExitCode == 0, result.Combined);
        }

        // Eight requests, two of them for one key, issued by eight CLI processes at once.
        await OpenSslAsync("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "shared.key");
        var names = Enumerable.Range(1, 8).Select(i => $"pg-{i}").ToArray();
        foreach (var name in names)
        {
            var key = name is "pg-1" or "pg-2" ? "shared.key" : $"{name}.key";
            if (key != "shared.key")
            {
                await OpenSslAsync("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key);
            }

            await OpenSslAsync("req", "-new", "-key", key, "-subj", $"/CN={name}.example.internal", "-addext", $"subjectAltName=DNS:{name}.example.internal", "-out", $"{name}.csr");
        }

        var issued = await Task.WhenAll(names.Select(name => Minica.RunAsync(directory.Path, ["issue", "--csr", $"{name}.csr", "--profile", "tls-server", "--out", $"{name}.pem"])));
        Assert.All(issued, r => Assert.True(r.ExitCode == 0, r.Combined));
        var serials = new ConcurrentDictionary<string, string>();
        foreach (var name in names)
        {
            var serial = (await ProcessRunner.RunAsync(openssl, ["x509", "-in", $"{name}.pem", "-noout", "-serial"], workingDirectory: directory.Path)).StandardOutput.Trim()["serial=".Length..].TrimStart('0').ToLowerInvariant();
            serials[name] = serial;
        }

        Assert.Equal(8, serials.Values.Distinct().Count());
        Assert.Equal("8", await postgres.Server.QueryAsync("cli", $"SELECT count(*) FROM \"Certificates\" WHERE \"Status\" = 'Issued' AND \"SerialHex\" IN ({string.Join(", ", serials.Values.Select(s => $"'{s}'"))})"));
        Assert.Equal("8", await postgres.Server.QueryAsync("cli", "SELECT count(*) FROM \"AuditEvents\" WHERE \"Action\" = 'certificate.issued' AND \"Subject\" LIKE 'certificate:%' AND \"Actor\" LIKE 'cli:%'"));

        // keyCompromise on one of the shared key's certificates: the other goes too, and the key is refused.
        var revoke = await Minica.RunAsync(directory.Path, ["revoke", "--serial", serials["pg-1"], "--reason", "keyCompromise"]);
        Assert.True(revoke.ExitCode == 0, revoke.Combined);
        Assert.Contains(serials["pg-2"], revoke.StandardOutput, StringComparison.Ordinal);
        var again = await Minica.RunAsync(directory.Path, ["issue", "--csr", "pg-1.csr", "--profile", "tls-server"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("reported compromised", again.StandardError, StringComparison.Ordinal);

        var crl = await Minica.RunAsync(directory.Path, ["crl", "--ca", "issuing", "--out", "issuing.crl"]);
        Assert.True(crl.ExitCode == 0, crl.Combined);
        await OpenSslAsync("crl", "-in", "issuing.crl", "-inform", "DER", "-out", "issuing.crl.pem");
        string[] Verify(string name) => ["verify", "-x509_strict", "-crl_check", "-CAfile", "data/ca/root.pem", "-untrusted", "data/ca/issuing.pem", "-CRLfile", "issuing.crl.pem", $"{name}.pem"];
        foreach (var name in names)
        {
            var result = await ProcessRunner.RunAsync(openssl, Verify(name), workingDirectory: directory.Path);
            if (name is "pg-1" or "pg-2")
            {
                Assert.NotEqual(0, result.ExitCode);
                Assert.Contains("certificate revoked", result.Combined, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(result.ExitCode == 0, result.Combined);
            }
        }

        // The audit chain's anchor now; the restored copy below still matches it.
        var audit = await Minica.RunAsync(directory.Path, ["audit", "verify", "--settled-for", "0"]);
        Assert.True(audit.ExitCode == 0, audit.Combined);
        var anchor = System.Text.RegularExpressions.Regex.Match(audit.StandardOutput, @"^Anchor: (\d+:[0-9a-f]{64})$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
        Assert.NotEmpty(anchor);

        // The backup: pg_dump from one snapshot, with the token store and its PINs. Restored into another database,
        // the copy is the same CA: it knows the revocation and the blocked key, and signs with the copied token.
        var backup = await Minica.RunAsync(directory.Path, ["backup", "--out", "backup"]);
        Assert.True(backup.ExitCode == 0, backup.Combined);
        var certificates = await postgres.Server.QueryAsync("cli", "SELECT count(*) FROM \"Certificates\"");
        Assert.Contains($"(pg_dump from one snapshot holding 2 authorities, {certificates} certificates; pg_restore reads it), the embedded token store", backup.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("pg_restore --no-owner --dbname=NAME", backup.StandardOutput, StringComparison.Ordinal);
        var copy = directory.Combine("backup");
        var dump = Path.Combine(copy, "data", "minica.pgdump");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dump));
        Assert.True(File.Exists(Path.Combine(copy, "data", "secrets", "hsm-user-pin")));

        // The backup checked as it is: the dump reads back, and the copied token holds the CA's keys and signs.
        var verified = await Minica.RunAsync(directory.Path, ["backup", "verify", copy]);
        Assert.True(verified.ExitCode == 0, verified.Combined);
        Assert.Contains($"ok     Database: data/minica.pgdump reads back with pg_restore --list, with the Certificates table's data; it recorded 2 authorities and {certificates} certificates when made.", verified.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ok     Keys: in the backup's embedded token, opened with its PIN: key 'root' of authority 'root' signs", verified.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Audit log", verified.StandardOutput, StringComparison.Ordinal);

        // Restored into an empty database of the server: its rows and audit log are checked there, against the
        // anchor taken on the CA; a database that is not empty is refused, and the CA's own is never touched.
        await postgres.Server.CreateDatabaseAsync("checked");
        var events = await postgres.Server.QueryAsync("cli", "SELECT count(*) FROM \"AuditEvents\"");
        var restoredCheck = await Minica.RunAsync(directory.Path, ["backup", "verify", copy, "--restore-into", "checked", "--anchor", anchor]);
        Assert.True(restoredCheck.ExitCode == 0, restoredCheck.Combined);
        Assert.Contains($"ok     Database: data/minica.pgdump reads back with pg_restore --list and, restored into the database checked (left there: start a CA on it, or drop it), records 2 authorities and {certificates} certificates, as the manifest says; its schema is this version's.", restoredCheck.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ok     Audit log: ", restoredCheck.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("the 1 anchor(s) given hold", restoredCheck.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(certificates, await postgres.Server.QueryAsync("checked", "SELECT count(*) FROM \"Certificates\""));
        var notEmpty = await Minica.RunAsync(directory.Path, ["backup", "verify", copy, "--restore-into", "checked"]);
        Assert.Equal(1, notEmpty.ExitCode);
        Assert.Contains("FAILED Database: The database checked is not empty: a backup is restored into an empty database", notEmpty.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(events, await postgres.Server.QueryAsync("cli", "SELECT count(*) FROM \"AuditEvents\""));

        // `backup restore`: refused without a database for the dump; given one, the dump restored there and the
        // configuration in a new folder naming it (the backup itself unchanged).
        var noDatabase = await Minica.RunAsync(directory.Path, ["backup", "restore", copy, "--to", directory.Combine("restored")]);
        Assert.Equal(1, noDatabase.ExitCode);
        Assert.Contains("holds a PostgreSQL dump: give --restore-into NAME", noDatabase.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("restored")));
        await postgres.Server.CreateDatabaseAsync("restored");
        var restore = await Minica.RunAsync(directory.Path, ["backup", "restore", copy, "--to", directory.Combine("restored"), "--restore-into", "restored", "--anchor", anchor]);
        Assert.True(restore.ExitCode == 0, restore.Combined);
        Assert.Contains($"Restored into {directory.Combine("restored")}", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("  ca.config.json: Database:ConnectionString: ", restore.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Database=restored", File.ReadAllText(directory.Combine("restored", "ca.config.json")), StringComparison.Ordinal);
        Assert.False(File.Exists(directory.Combine("restored", MiniCa.Hosting.BackupManifest.FileName)));
        copy = directory.Combine("restored");
        Assert.Equal("Revoked", await postgres.Server.QueryAsync("restored", $"SELECT \"Status\" FROM \"Certificates\" WHERE \"SerialHex\" = '{serials["pg-1"]}'"));
        var fromCopy = await Minica.RunAsync(copy, ["issue", "--csr", directory.Combine("pg-3.csr"), "--profile", "tls-server", "--out", "copy.pem"]);
        Assert.True(fromCopy.ExitCode == 0, fromCopy.Combined);
        var copyVerified = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-CAfile", directory.Combine("data", "ca", "root.pem"), "-untrusted", directory.Combine("data", "ca", "issuing.pem"), Path.Combine(copy, "copy.pem")]);
        Assert.True(copyVerified.ExitCode == 0, copyVerified.Combined);
        var blockedInCopy = await Minica.RunAsync(copy, ["issue", "--csr", directory.Combine("pg-1.csr"), "--profile", "tls-server"]);
        Assert.Equal(1, blockedInCopy.ExitCode);
        Assert.Contains("reported compromised", blockedInCopy.StandardError, StringComparison.Ordinal);
        Assert.Equal("1", await postgres.Server.QueryAsync("cli", "SELECT count(*) FROM \"Certificates\" WHERE \"Subject\" = 'CN=pg-3.example.internal'"));

        // The copy's audit log, with the events the copy has written since, matches the anchor taken before the
        // backup; with its first event's details changed it does not.
        var copyAudit = await Minica.RunAsync(copy, ["audit", "verify", "--anchor", anchor]);
        Assert.True(copyAudit.ExitCode == 0, copyAudit.Combined);
        Assert.Contains($"Anchor {anchor} holds", copyAudit.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("1", await postgres.Server.QueryAsync("restored", "WITH changed AS (UPDATE \"AuditEvents\" SET \"Details\" = \"Details\" || '.' WHERE \"Id\" = (SELECT min(\"Id\") FROM \"AuditEvents\") RETURNING 1) SELECT count(*) FROM changed"));
        var tampered = await Minica.RunAsync(copy, ["audit", "verify", "--anchor", anchor]);
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains($"The audit log does not match anchor {anchor}", tampered.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_PgDumpMissingOrServerDown_SaysWhatToDo()
    {
        await postgres.Server.CreateDatabaseAsync("nodump");
        using var directory = new TempDirectory("minica-pg-nodump");
        WriteConfigOn(directory.Path, "nodump");
        var init = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);

        // Without PostgreSQL's client tools on the PATH: said before anything is written.
        var missing = await Minica.RunAsync(directory.Path, ["backup", "--out", "b1"], new Dictionary<string, string?> { ["PATH"] = "/nonexistent" });
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("pg_dump was not found on the PATH: install PostgreSQL's client tools", missing.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", missing.Combined, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("b1")));

        // A database that does not exist: the server's own words, no stack trace.
        WriteConfigOn(directory.Path, "no-such-database");
        var down = await Minica.RunAsync(directory.Path, ["backup", "--out", "b2"]);
        Assert.Equal(1, down.ExitCode);
        Assert.Contains("no-such-database", down.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", down.Combined, StringComparison.Ordinal);
    }
}
