using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>The CLI doors of the pipeline, driven like an operator would, with OpenSSL making the key and CSR.</summary>
public sealed class CliIssuanceTests
{
    [Fact]
    public async Task IssueRevokeCrl_FromTheCommandLine_OpenSslSeesTheRevocation()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-cli");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["init"])).ExitCode);
        var csr = await ProcessRunner.RunAsync(openssl, [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
            "-subj", "/CN=cli.example.internal", "-addext", "subjectAltName=DNS:cli.example.internal", "-out", "cli.csr"], workingDirectory: directory.Path);
        Assert.True(csr.ExitCode == 0, csr.Combined);

        var issue = await Minica.RunAsync(directory.Path, ["issue", "--csr", "cli.csr", "--profile", "tls-server", "--out", "cli.pem"]);
        Assert.True(issue.ExitCode == 0, issue.Combined);
        var serial = (await ProcessRunner.RunAsync(openssl, ["x509", "-in", "cli.pem", "-noout", "-serial"], workingDirectory: directory.Path)).StandardOutput.Trim()["serial=".Length..];

        var requests = await Minica.RunAsync(directory.Path, ["requests"]);
        Assert.Contains("Issued", requests.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("dns:cli.example.internal", requests.StandardOutput, StringComparison.Ordinal);

        var revoke = await Minica.RunAsync(directory.Path, ["revoke", "--serial", serial, "--reason", "keyCompromise"]);
        Assert.True(revoke.ExitCode == 0, revoke.Combined);
        Assert.Contains("lists 1 certificate(s)", revoke.StandardOutput, StringComparison.Ordinal);

        var again = await Minica.RunAsync(directory.Path, ["revoke", "--serial", serial, "--reason", "keyCompromise"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already revoked", again.StandardError, StringComparison.Ordinal);

        // The key was reported compromised: the same CSR is refused from now on (BR §6.1.1.3 (4)).
        var reissue = await Minica.RunAsync(directory.Path, ["issue", "--csr", "cli.csr", "--profile", "tls-server", "--out", "again.pem"]);
        Assert.Equal(1, reissue.ExitCode);
        Assert.Contains("reported compromised", reissue.Combined, StringComparison.Ordinal);
        Assert.False(File.Exists(directory.Combine("again.pem")));

        var crl = await Minica.RunAsync(directory.Path, ["crl", "--ca", "issuing", "--out", "issuing.crl"]);
        Assert.True(crl.ExitCode == 0, crl.Combined);
        Assert.Contains("CRL 2 of 'issuing'", crl.StandardOutput, StringComparison.Ordinal);
        await ProcessRunner.RunAsync(openssl, ["crl", "-inform", "DER", "-in", "issuing.crl", "-out", "issuing.crl.pem"], workingDirectory: directory.Path);
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["crl", "--ca", "root", "--out", "root.crl"])).ExitCode);
        await ProcessRunner.RunAsync(openssl, ["crl", "-inform", "DER", "-in", "root.crl", "-out", "root.crl.pem"], workingDirectory: directory.Path);

        var verify = await ProcessRunner.RunAsync(openssl, [
            "verify", "-crl_check_all", "-CAfile", "data/ca/root.pem", "-untrusted", "data/ca/issuing.pem",
            "-CRLfile", "issuing.crl.pem", "-CRLfile", "root.crl.pem", "cli.pem"], workingDirectory: directory.Path);
        Assert.NotEqual(0, verify.ExitCode);
        Assert.Contains("certificate revoked", verify.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issue_BadCsr_ExitsNonZeroWithTheReasons()
    {
        using var directory = new TempDirectory("minica-cli");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["init"])).ExitCode);
        File.WriteAllText(directory.Combine("garbage.csr"), "not a csr");

        var result = await Minica.RunAsync(directory.Path, ["issue", "--csr", "garbage.csr", "--profile", "tls-server"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("minica: error: request 1 rejected: the input is neither DER nor PEM", result.StandardError.Trim());
    }

    [Fact]
    public async Task BlockedKeysAdd_PublicKeyOfTwoCertificates_RevokesBothRefusesTheKeyAndListsIt()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-cli");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["init"])).ExitCode);
        async Task OpenSslAsync(params string[] args)
        {
            var result = await ProcessRunner.RunAsync(openssl, args, workingDirectory: directory.Path);
            Assert.True(result.ExitCode == 0, result.Combined);
        }

        async Task<string> IssueAsync(string name, string key)
        {
            await OpenSslAsync("req", "-new", "-key", key, "-subj", $"/CN={name}.example.internal", "-addext", $"subjectAltName=DNS:{name}.example.internal", "-out", $"{name}.csr");
            var issue = await Minica.RunAsync(directory.Path, ["issue", "--csr", $"{name}.csr", "--profile", "tls-server", "--out", $"{name}.pem"]);
            Assert.True(issue.ExitCode == 0, issue.Combined);
            return (await ProcessRunner.RunAsync(openssl, ["x509", "-in", $"{name}.pem", "-noout", "-serial"], workingDirectory: directory.Path)).StandardOutput.Trim()["serial=".Length..].TrimStart('0').ToLowerInvariant();
        }

        await OpenSslAsync("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaked.key");
        await OpenSslAsync("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key");
        var first = await IssueAsync("leaked-1", "leaked.key");
        var second = await IssueAsync("leaked-2", "leaked.key");
        await IssueAsync("other", "other.key");
        await OpenSslAsync("pkey", "-in", "leaked.key", "-pubout", "-out", "leaked.pub");

        // A private key is not taken: the message says how to get its public key.
        var privateKey = await Minica.RunAsync(directory.Path, ["blocked-keys", "add", "--file", "leaked.key"]);
        Assert.Equal(1, privateKey.ExitCode);
        Assert.Contains("openssl pkey -in leaked.key -pubout", privateKey.StandardError, StringComparison.Ordinal);
        File.WriteAllText(directory.Combine("garbage.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        var garbage = await Minica.RunAsync(directory.Path, ["blocked-keys", "add", "--file", "garbage.pem"]);
        Assert.Equal(1, garbage.ExitCode);
        Assert.Contains("garbage.pem", garbage.StandardError, StringComparison.Ordinal);

        var add = await Minica.RunAsync(directory.Path, ["blocked-keys", "add", "--file", "leaked.pub", "--note", "found in a public repository"]);
        Assert.True(add.ExitCode == 0, add.Combined);
        Assert.Contains($"Revoked {first} ", add.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Revoked {second} ", add.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("of 'issuing' lists 2 certificate(s)", add.StandardOutput, StringComparison.Ordinal);
        var fingerprint = add.StandardOutput.Split("Blocked key ")[1][..64];

        // The same key from one of its certificates: blocked already, nothing more revoked.
        var again = await Minica.RunAsync(directory.Path, ["blocked-keys", "add", "--file", "leaked-1.pem"]);
        Assert.True(again.ExitCode == 0, again.Combined);
        Assert.Contains($"Key {fingerprint} was blocked already", again.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("No unexpired certificate of this key", again.StandardOutput, StringComparison.Ordinal);

        var reissue = await Minica.RunAsync(directory.Path, ["issue", "--csr", "leaked-1.csr", "--profile", "tls-server"]);
        Assert.Equal(1, reissue.ExitCode);
        Assert.Contains("reported compromised (blocked on ", reissue.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["issue", "--csr", "other.csr", "--profile", "tls-server"])).ExitCode);

        var list = await Minica.RunAsync(directory.Path, ["blocked-keys", "list"]);
        Assert.True(list.ExitCode == 0, list.Combined);
        Assert.Contains(fingerprint, list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("1 blocked key(s)", list.StandardOutput, StringComparison.Ordinal);

        // A block made by mistake is lifted with a reason: the key is certified again, its revoked certificates stay.
        var noNote = await Minica.RunAsync(directory.Path, ["blocked-keys", "remove", "--key", fingerprint]);
        Assert.Equal(64, noNote.ExitCode);
        Assert.Contains("--note TEXT is required", noNote.StandardError, StringComparison.Ordinal);
        var notHex = await Minica.RunAsync(directory.Path, ["blocked-keys", "remove", "--key", "leaked.pub", "--note", "wrong file"]);
        Assert.Equal(1, notHex.ExitCode);
        Assert.Contains("'leaked.pub' is not a SHA-256 fingerprint", notHex.StandardError, StringComparison.Ordinal);
        var remove = await Minica.RunAsync(directory.Path, ["blocked-keys", "remove", "--key", fingerprint.ToUpperInvariant(), "--note", "the report named the wrong key"]);
        Assert.True(remove.ExitCode == 0, remove.Combined);
        Assert.Contains($"Lifted the block of key {fingerprint} (report, blocked ", remove.StandardOutput, StringComparison.Ordinal);
        var twice = await Minica.RunAsync(directory.Path, ["blocked-keys", "remove", "--key", fingerprint, "--note", "again"]);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains($"Key {fingerprint} is not blocked", twice.StandardError, StringComparison.Ordinal);
        Assert.Contains("0 blocked key(s)", (await Minica.RunAsync(directory.Path, ["blocked-keys", "list"])).StandardOutput, StringComparison.Ordinal);
        var lifted = await Minica.RunAsync(directory.Path, ["issue", "--csr", "leaked-1.csr", "--profile", "tls-server"]);
        Assert.True(lifted.ExitCode == 0, lifted.Combined);
        var stillRevoked = await Minica.RunAsync(directory.Path, ["revoke", "--serial", first, "--reason", "superseded"]);
        Assert.Equal(1, stillRevoked.ExitCode);
        Assert.Contains("already revoked", stillRevoked.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Issue_AKeyInABlockedKeyList_IsRefused_AnotherIsIssued_ABadListStopsTheCommand()
    {
        // BR §6.1.1.3 (5)(1), Debian's weak keys: the list's line for a key made here, computed the way Debian's
        // openssl-blacklist documents it, with OpenSSL and coreutils apart from the CA's code.
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-cli");
        foreach (var name in new[] { "listed", "other" })
        {
            var csr = await ProcessRunner.RunAsync(openssl, [
                "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
                "-subj", $"/CN={name}.example.internal", "-addext", $"subjectAltName=DNS:{name}.example.internal", "-out", name + ".csr"], workingDirectory: directory.Path);
            Assert.True(csr.ExitCode == 0, csr.Combined);
        }

        var fingerprint = await ProcessRunner.RunAsync("sh", ["-c", "openssl rsa -noout -modulus -in listed.key | sha1sum | cut -c21-40"], workingDirectory: directory.Path);
        Assert.True(fingerprint.ExitCode == 0 && fingerprint.StandardOutput.Trim().Length == 20, fingerprint.Combined);
        Directory.CreateDirectory(directory.Combine("lists"));
        var list = directory.Combine("lists", "blacklist.RSA-2048");
        File.WriteAllText(list, $"# keys whose private keys are known\n\n{fingerprint.StandardOutput.Trim()}\n");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data", "BlockedKeyLists": [ "lists/blacklist.RSA-2048" ] }""");
        var init = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);

        var refused = await Minica.RunAsync(directory.Path, ["issue", "--csr", "listed.csr", "--profile", "tls-server", "--out", "listed.pem"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("minica: error: request 1 rejected: the RSA key is listed in blacklist.RSA-2048 (BlockedKeyLists): its private key is known, e.g. a Debian weak key (BR §6.1.1.3 (5))", refused.StandardError.Trim());
        Assert.False(File.Exists(directory.Combine("listed.pem")));
        var issued = await Minica.RunAsync(directory.Path, ["issue", "--csr", "other.csr", "--profile", "tls-server", "--out", "other.pem"]);
        Assert.True(issued.ExitCode == 0, issued.Combined);
        var requests = await Minica.RunAsync(directory.Path, ["requests"]);
        Assert.Contains("Rejected", requests.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("listed in blacklist.RSA-2048", requests.StandardOutput, StringComparison.Ordinal);

        // A line that is no key's: nothing runs, and the error names the file and the line.
        File.AppendAllText(list, "not-a-key\n");
        var bad = await Minica.RunAsync(directory.Path, ["issue", "--csr", "other.csr", "--profile", "tls-server"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.StartsWith($"minica: error: BlockedKeyLists: {list} line 4: 'not-a-key' is not 20 hexadecimal digits", bad.StandardError.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", bad.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebHost_ABlockedKeyListChangedWhileItRuns_IsReadAgain_ABadChangeKeepsTheListsInForce()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-cli");
        var key = await ProcessRunner.RunAsync(openssl, ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "leaked.key"], workingDirectory: directory.Path);
        Assert.True(key.ExitCode == 0, key.Combined);
        var line = await ProcessRunner.RunAsync("sh", ["-c", "openssl rsa -noout -modulus -in leaked.key | sha1sum | cut -c21-40"], workingDirectory: directory.Path);
        Assert.True(line.ExitCode == 0 && line.StandardOutput.Trim().Length == 20, line.Combined);
        Directory.CreateDirectory(directory.Combine("lists"));
        var list = directory.Combine("lists", "leaked.txt");
        File.WriteAllText(list, "# keys published by mistake\n");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data", "BlockedKeyLists": [ "lists/leaked.txt" ] }""");
        Assert.Equal(0, (await Minica.RunAsync(directory.Path, ["init"])).ExitCode);

        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next());
        await host.WaitUntilHealthyAsync();
        Assert.Contains("Blocked key lists: 0 RSA keys refused", host.Output, StringComparison.Ordinal);

        // A key added while the host runs: read within seconds, no restart (the host checks every 10 s).
        File.AppendAllText(list, line.StandardOutput.Trim() + "\n");
        await WaitForOutputAsync(host, $"Blocked key lists read again after a change: 1 RSA keys refused, from {list}");

        // A bad edit: named with its line, and the list read before stays in force; the host keeps serving.
        File.AppendAllText(list, "not-a-key\n");
        await WaitForOutputAsync(host, $"BlockedKeyLists: {list} line 3: 'not-a-key' is not 20 hexadecimal digits");
        Assert.Contains("The lists read before stay in force (1 RSA keys) until the file is mended.", host.Output, StringComparison.Ordinal);
        using var health = await host.Client.GetAsync("/healthz");
        Assert.True(health.IsSuccessStatusCode, await health.Content.ReadAsStringAsync());
        Assert.False(host.HasExited);
    }

    private static async Task WaitForOutputAsync(WebHostProcess host, string text)
    {
        for (var i = 0; i < 150 && !host.Output.Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(200);
        }

        Assert.True(host.Output.Contains(text, StringComparison.Ordinal), $"the host did not log '{text}' within 30 s:\n{host.Output}");
    }

    [Fact]
    public async Task Init_WithNameConstraints_TheIssuingCaCarriesThem_NamesOutsideAreRefusedBeforeSigning()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        var certtool = Prerequisites.RequireProgram("certtool", "gnutls-bin");
        using var directory = new TempDirectory("minica-cli");

        // On a root they would bind nobody: refused, naming the key.
        Minica.WriteConfig(directory.Path, """
            { "DataDirectory": "data", "Authorities": {
                "root": { "Subject": "CN=Constrained Root", "KeyAlgorithm": "P-256", "NameConstraints": { "Permitted": [ "dns:example.internal" ] } },
                "issuing": { "Subject": "CN=Constrained Issuing", "Issuer": "root", "KeyAlgorithm": "P-256", "PathLength": 0 } } }
            """);
        var onRoot = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.NotEqual(0, onRoot.ExitCode);
        Assert.Contains("Authorities:root:NameConstraints: a root's are not enforced by relying parties", onRoot.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("data", "ca")));

        Minica.WriteConfig(directory.Path, """
            { "DataDirectory": "data", "Authorities": {
                "root": { "Subject": "CN=Constrained Root", "KeyAlgorithm": "P-256" },
                "issuing": { "Subject": "CN=Constrained Issuing", "Issuer": "root", "KeyAlgorithm": "P-256", "PathLength": 0,
                  "NameConstraints": { "Permitted": [ "dns:corp.example.internal", "ip:10.0.0.0/8", "uri:prod.example.internal" ], "Excluded": [ "dns:secret.corp.example.internal" ] } } } }
            """);
        var init = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(init.ExitCode == 0, init.Combined);
        var issuing = directory.Combine("data", "ca", "issuing.pem");
        var root = directory.Combine("data", "ca", "root.pem");

        // As OpenSSL reads the issuing CA's certificate: critical, both lists (RFC 5280 §4.2.1.10).
        var extension = await ProcessRunner.RunAsync(openssl, ["x509", "-in", issuing, "-noout", "-ext", "nameConstraints"]);
        Assert.True(extension.ExitCode == 0, extension.Combined);
        var text = string.Join(" ", extension.StandardOutput.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("X509v3 Name Constraints: critical Permitted: DNS:corp.example.internal IP:10.0.0.0/255.0.0.0 URI:prod.example.internal Excluded: DNS:secret.corp.example.internal", text);
        var rootText = await ProcessRunner.RunAsync(openssl, ["x509", "-in", root, "-noout", "-text"]);
        Assert.DoesNotContain("Name Constraints", rootText.StandardOutput, StringComparison.Ordinal);

        foreach (var name in new[] { "www.corp.example.internal", "www.example.internal", "db.secret.corp.example.internal" })
        {
            await EcCsrAsync(openssl, directory.Path, name, name, "DNS:" + name);
        }

        // Within them: issued, and both verifiers walk the chain through the constraints.
        var inside = await Minica.RunAsync(directory.Path, ["issue", "--csr", "www.corp.example.internal.csr", "--profile", "tls-server", "--out", "inside.pem"]);
        Assert.True(inside.ExitCode == 0, inside.Combined);
        var verify = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", root, "-untrusted", issuing, directory.Combine("inside.pem")]);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        File.WriteAllText(directory.Combine("chain.pem"), File.ReadAllText(directory.Combine("inside.pem")));
        var gnutls = await ProcessRunner.RunAsync(certtool, ["--verify", "--load-ca-certificate", root, "--infile", directory.Combine("chain.pem"), "--verify-hostname", "www.corp.example.internal"]);
        Assert.True(gnutls.ExitCode == 0, gnutls.Combined);
        Assert.Contains("Chain verification output: Verified.", gnutls.StandardOutput, StringComparison.Ordinal);

        // Outside them, or within an excluded subtree: refused with the reason when it arrives (and the lint
        // e_name_constraints_violated would refuse it before the HSM signs anything).
        var outside = await Minica.RunAsync(directory.Path, ["issue", "--csr", "www.example.internal.csr", "--profile", "tls-server", "--out", "outside.pem"]);
        Assert.Equal(1, outside.ExitCode);
        Assert.Equal("minica: error: request 2 rejected: dns:www.example.internal is outside the issuer's permitted subtrees (dns:corp.example.internal)", outside.StandardError.Trim());
        var excluded = await Minica.RunAsync(directory.Path, ["issue", "--csr", "db.secret.corp.example.internal.csr", "--profile", "tls-server", "--out", "excluded.pem"]);
        Assert.Equal(1, excluded.ExitCode);
        Assert.Equal("minica: error: request 3 rejected: dns:db.secret.corp.example.internal is within the issuer's excluded subtrees (dns:secret.corp.example.internal)", excluded.StandardError.Trim());
        Assert.False(File.Exists(directory.Combine("outside.pem")) || File.Exists(directory.Combine("excluded.pem")));
        var requests = await Minica.RunAsync(directory.Path, ["requests"]);
        Assert.Equal(2, requests.StandardOutput.Split('\n').Count(line => line.Contains("Rejected", StringComparison.Ordinal)));
        Assert.DoesNotContain("NameConstraints", requests.StandardError, StringComparison.Ordinal);

        // URI subtrees name a host: a client's SPIFFE ID in the permitted trust domain is issued and OpenSSL walks
        // the chain through the constraint; one in another trust domain is refused when it arrives.
        foreach (var (name, spiffe) in new[] { ("web", "spiffe://prod.example.internal/ns/shop/sa/web"), ("dev", "spiffe://dev.example.internal/ns/shop/sa/web") })
        {
            await EcCsrAsync(openssl, directory.Path, name, $"{name}.corp.example.internal", $"DNS:{name}.corp.example.internal,URI:{spiffe}");
        }

        var client = await Minica.RunAsync(directory.Path, ["issue", "--csr", "web.csr", "--profile", "tls-client", "--out", "web.pem"]);
        Assert.True(client.ExitCode == 0, client.Combined);
        var clientVerify = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", root, "-untrusted", issuing, directory.Combine("web.pem")]);
        Assert.True(clientVerify.ExitCode == 0, clientVerify.Combined);
        var otherDomain = await Minica.RunAsync(directory.Path, ["issue", "--csr", "dev.csr", "--profile", "tls-client", "--out", "dev.pem"]);
        Assert.Equal(1, otherDomain.ExitCode);
        Assert.Equal("minica: error: request 5 rejected: uri:spiffe://dev.example.internal/ns/shop/sa/web is outside the issuer's permitted subtrees (uri:prod.example.internal)", otherDomain.StandardError.Trim());
        Assert.False(File.Exists(directory.Combine("dev.pem")));

        // Other constraints asked for later: the certificate keeps its own, and every signing command says so.
        File.WriteAllText(directory.Combine("ca.config.json"), File.ReadAllText(directory.Combine("ca.config.json")).Replace("\"ip:10.0.0.0/8\"", "\"ip:10.1.0.0/16\"", StringComparison.Ordinal));
        var changed = await Minica.RunAsync(directory.Path, ["issue", "--csr", "www.corp.example.internal.csr", "--profile", "tls-server", "--out", "again.pem"]);
        Assert.True(changed.ExitCode == 0, changed.Combined);
        Assert.Contains("Authority issuing: Authorities:issuing:NameConstraints differs from the nameConstraints of its certificate (serial ", changed.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificatePolicies_TheIssuingCaConveysWhatItsProfilesAssert_OpenSslRequiresThemExplicitly()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        var certtool = Prerequisites.RequireProgram("certtool", "gnutls-bin");
        using var directory = new TempDirectory("minica-cli");
        const string Ours = "1.3.6.1.4.1.55555.1.1";
        const string Baseline = "1.3.6.1.4.1.55555.1.2";
        const string Stray = "1.3.6.1.4.1.55555.9.9";

        // The shipped profiles, and two more: one asserting the CA's policies, one asserting a policy the CA does not convey.
        var policies = Directory.CreateDirectory(directory.Combine("policies")).FullName;
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "policies")))
        {
            File.Copy(file, Path.Combine(policies, Path.GetFileName(file)));
        }

        var tlsServer = File.ReadAllText(Path.Combine(policies, "tls-server.json"));
        File.WriteAllText(Path.Combine(policies, "tls-policy.json"), tlsServer.Replace(
            "\"acme\": true", $$"""
            "acme": false,
              "certificatePolicies": [ { "oid": "{{Ours}}", "cps": "https://pki.example.internal/cps", "notice": "Für interne Dienste" }, { "oid": "{{Baseline}}" } ]
            """, StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(policies, "tls-stray.json"), tlsServer.Replace(
            "\"acme\": true", $$"""
            "acme": false,
              "certificatePolicies": [ { "oid": "{{Stray}}" } ]
            """, StringComparison.Ordinal));
        var environment = new Dictionary<string, string?> { ["MINICA_PoliciesDirectory"] = policies };

        // On a root they would bind nobody: refused, naming the key.
        Minica.WriteConfig(directory.Path, $$"""
            { "DataDirectory": "data", "Authorities": {
                "root": { "Subject": "CN=Policy Root", "KeyAlgorithm": "P-256", "CertificatePolicies": [ { "Oid": "anyPolicy" } ] },
                "issuing": { "Subject": "CN=Policy Issuing", "Issuer": "root", "KeyAlgorithm": "P-256", "PathLength": 0 } } }
            """);
        var onRoot = await Minica.RunAsync(directory.Path, ["init"], environment);
        Assert.NotEqual(0, onRoot.ExitCode);
        Assert.Contains("Authorities:root:CertificatePolicies: a root's are not processed by relying parties", onRoot.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("data", "ca")));

        Minica.WriteConfig(directory.Path, $$"""
            { "DataDirectory": "data", "Authorities": {
                "root": { "Subject": "CN=Policy Root", "KeyAlgorithm": "P-256" },
                "issuing": { "Subject": "CN=Policy Issuing", "Issuer": "root", "KeyAlgorithm": "P-256", "PathLength": 0,
                  "CertificatePolicies": [ { "Oid": "{{Ours}}", "Cps": "https://pki.example.internal/cps" }, { "Oid": "{{Baseline}}" } ] } } }
            """);
        var init = await Minica.RunAsync(directory.Path, ["init"], environment);
        Assert.True(init.ExitCode == 0, init.Combined);
        var issuing = directory.Combine("data", "ca", "issuing.pem");
        var root = directory.Combine("data", "ca", "root.pem");

        // As OpenSSL reads the issuing CA's certificate; the root has none.
        Assert.Equal(
            $"X509v3 Certificate Policies: Policy: {Ours} CPS: https://pki.example.internal/cps Policy: {Baseline}",
            await ExtensionTextAsync(openssl, issuing, "certificatePolicies"));
        var rootText = await ProcessRunner.RunAsync(openssl, ["x509", "-in", root, "-noout", "-text"]);
        Assert.DoesNotContain("Certificate Policies", rootText.StandardOutput, StringComparison.Ordinal);

        foreach (var name in new[] { "policy.example.internal", "plain.example.internal", "stray.example.internal" })
        {
            await EcCsrAsync(openssl, directory.Path, name, name, "DNS:" + name);
        }

        var issued = await Minica.RunAsync(directory.Path, ["issue", "--csr", "policy.example.internal.csr", "--profile", "tls-policy", "--out", "policy.pem"], environment);
        Assert.True(issued.ExitCode == 0, issued.Combined);
        Assert.DoesNotContain("CertificatePolicies", issued.StandardError, StringComparison.Ordinal);
        var plain = await Minica.RunAsync(directory.Path, ["issue", "--csr", "plain.example.internal.csr", "--profile", "tls-server", "--out", "plain.pem"], environment);
        Assert.True(plain.ExitCode == 0, plain.Combined);

        // Not critical; the CPS pointer and the UTF-8 notice as OpenSSL and GnuTLS read them.
        Assert.Equal(
            $"X509v3 Certificate Policies: Policy: {Ours} CPS: https://pki.example.internal/cps User Notice: Explicit Text: Für interne Dienste Policy: {Baseline}",
            await ExtensionTextAsync(openssl, directory.Combine("policy.pem"), "certificatePolicies"));
        var gnutlsInfo = await ProcessRunner.RunAsync(certtool, ["-i", "--infile", directory.Combine("policy.pem")]);
        Assert.True(gnutlsInfo.ExitCode == 0, gnutlsInfo.Combined);
        Assert.Contains("Certificate Policies (not critical):", gnutlsInfo.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{Ours}", gnutlsInfo.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("https://pki.example.internal/cps", gnutlsInfo.StandardOutput, StringComparison.Ordinal);

        // RFC 5280 §6.1 policy processing: a relying party that requires our policy accepts the certificate issued
        // under it and refuses the one issued without; one that requires a policy nobody asserted refuses both.
        async Task<ProcessResult> VerifyAsync(string leaf, string policy) => await ProcessRunner.RunAsync(openssl, [
            "verify", "-x509_strict", "-purpose", "sslserver", "-policy", policy, "-explicit_policy", "-CAfile", root, "-untrusted", issuing, directory.Combine(leaf)]);
        var required = await VerifyAsync("policy.pem", Ours);
        Assert.True(required.ExitCode == 0, required.Combined);
        var baseline = await VerifyAsync("policy.pem", Baseline);
        Assert.True(baseline.ExitCode == 0, baseline.Combined);
        var withoutPolicy = await VerifyAsync("plain.pem", Ours);
        Assert.NotEqual(0, withoutPolicy.ExitCode);
        Assert.Contains("no explicit policy", withoutPolicy.Combined, StringComparison.Ordinal);
        var otherPolicy = await VerifyAsync("policy.pem", Stray);
        Assert.NotEqual(0, otherPolicy.ExitCode);
        Assert.Contains("no explicit policy", otherPolicy.Combined, StringComparison.Ordinal);
        var gnutls = await ProcessRunner.RunAsync(certtool, ["--verify", "--load-ca-certificate", root, "--infile", directory.Combine("policy.pem"), "--verify-hostname", "policy.example.internal"]);
        Assert.True(gnutls.ExitCode == 0, gnutls.Combined);

        // A profile asserting a policy the CA does not convey: every signing command names it, and the linter
        // refuses to sign, with nothing written.
        var stray = await Minica.RunAsync(directory.Path, ["issue", "--csr", "stray.example.internal.csr", "--profile", "tls-stray", "--out", "stray.pem"], environment);
        Assert.Equal(1, stray.ExitCode);
        Assert.Contains($"Profile tls-stray asserts {Stray}, which the issuing CA's certificate (authority issuing, serial ", stray.StandardError, StringComparison.Ordinal);
        Assert.Contains($"e_cert_policy_not_in_issuer: the issuer's certificate conveys [{Ours}, {Baseline}], not {Stray}", stray.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(directory.Combine("stray.pem")));

        // Other policies asked for later: the certificate keeps its own, and every signing command says so.
        File.WriteAllText(directory.Combine("ca.config.json"), File.ReadAllText(directory.Combine("ca.config.json")).Replace($"{{ \"Oid\": \"{Baseline}\" }}", "{ \"Oid\": \"anyPolicy\" }", StringComparison.Ordinal));
        var changed = await Minica.RunAsync(directory.Path, ["issue", "--csr", "policy.example.internal.csr", "--profile", "tls-policy", "--out", "again.pem"], environment);
        Assert.True(changed.ExitCode == 0, changed.Combined);
        Assert.Contains($"Authority issuing: Authorities:issuing:CertificatePolicies differs from the certificatePolicies of its certificate (serial ", changed.StandardError, StringComparison.Ordinal);
        Assert.Contains($": {Ours}, {Baseline}), which the key ceremony made", changed.StandardError, StringComparison.Ordinal);
    }

    /// <summary>A P-256 key (NAME.key) and its CSR (NAME.csr) made by OpenSSL in <paramref name="directory"/>, with the CN and subjectAltName given.</summary>
    private static async Task EcCsrAsync(string openssl, string directory, string name, string commonName, string subjectAltName)
    {
        var csr = await ProcessRunner.RunAsync(openssl, [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
            "-subj", "/CN=" + commonName, "-addext", "subjectAltName=" + subjectAltName, "-out", name + ".csr"], workingDirectory: directory);
        Assert.True(csr.ExitCode == 0, csr.Combined);
    }

    /// <summary>One extension as <c>openssl x509 -ext</c> prints it, on one line.</summary>
    private static async Task<string> ExtensionTextAsync(string openssl, string certificate, string extension)
    {
        var result = await ProcessRunner.RunAsync(openssl, ["x509", "-in", certificate, "-noout", "-ext", extension]);
        Assert.True(result.ExitCode == 0, result.Combined);
        return string.Join(" ", result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }
}
