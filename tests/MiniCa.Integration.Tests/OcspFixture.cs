using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>A running web host (embedded HSM, first start) and two certificates issued from the command line beside it.</summary>
public sealed class OcspFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new("minica-ocsp");

    public WebHostProcess Host { get; private set; } = null!;

    public string Directory => _directory.Path;

    public string Openssl { get; } = Prerequisites.RequireProgram("openssl", "openssl");

    public string Url => new Uri(Host.BaseAddress, "ocsp").AbsoluteUri;

    public string Path(params string[] parts) => _directory.Combine(parts);

    public async Task InitializeAsync()
    {
        Prerequisites.RequireSoftHsm();
        Minica.WriteConfig(Directory, """{ "DataDirectory": "data" }""");
        Host = WebHostProcess.Start(Directory, FreePort.Next());
        await Host.WaitUntilHealthyAsync();
        foreach (var name in new[] { "good", "revoked" })
        {
            await IssueAsync(name);
        }
    }

    public async Task IssueAsync(string name)
    {
        var csr = await ProcessRunner.RunAsync(Openssl, [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", $"{name}.key",
            "-subj", $"/CN={name}.example.internal", "-addext", $"subjectAltName=DNS:{name}.example.internal", "-out", $"{name}.csr"], workingDirectory: Directory);
        if (csr.ExitCode != 0)
        {
            throw new InvalidOperationException(csr.Combined);
        }

        // The CLI runs beside the web host on the same database and token store, as an operator would.
        var issue = await Minica.RunAsync(Directory, ["issue", "--csr", $"{name}.csr", "--profile", "tls-server", "--out", $"{name}.pem"], PublicBase());
        if (issue.ExitCode != 0)
        {
            throw new InvalidOperationException(issue.Combined);
        }
    }

    public Dictionary<string, string?> PublicBase() => new() { ["MINICA_PublicBaseUrl"] = Host.BaseAddress.AbsoluteUri };

    public async Task<string> SerialAsync(string name) =>
        (await ProcessRunner.RunAsync(Openssl, ["x509", "-in", $"{name}.pem", "-noout", "-serial"], workingDirectory: Directory)).StandardOutput.Trim()["serial=".Length..];

    /// <summary>Runs <c>openssl ocsp</c> against the host for a certificate.</summary>
    public Task<ProcessResult> QueryAsync(string certificate, params string[] extra) => QueryWithDigestAsync(certificate, null, extra);

    /// <summary>As <see cref="QueryAsync"/>, with the CertID hash named (OpenSSL wants it before -cert).</summary>
    public Task<ProcessResult> QueryWithDigestAsync(string certificate, string? digest, params string[] extra) =>
        ProcessRunner.RunAsync(Openssl, [
            "ocsp", "-issuer", "data/ca/issuing.pem", .. (digest is null ? Array.Empty<string>() : [digest]), "-cert", certificate,
            "-url", Url, "-CAfile", "data/ca/root.pem", "-resp_text", .. extra], workingDirectory: Directory);

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        _directory.Dispose();
    }

    public void Dispose() => _directory.Dispose();
}
