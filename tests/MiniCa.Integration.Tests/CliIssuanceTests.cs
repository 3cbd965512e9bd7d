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
}
