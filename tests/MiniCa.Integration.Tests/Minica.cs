using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>Runs the built <c>minica</c> CLI in a working directory of the test's own.</summary>
internal static class Minica
{
    public static Task<ProcessResult> RunAsync(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var env = new Dictionary<string, string?>
        {
            // Nothing from the test runner's environment may point MiniCa at another store or file.
            ["SOFTHSM2_CONF"] = null,
            ["MINICA_CONFIG"] = null,
            ["DOTNET_NOLOGO"] = "1",
            // Test directories hold only a ca.config.json; the shipped profiles are the repository's.
            ["MINICA_PoliciesDirectory"] = Path.Combine(RepositoryPaths.Root, "policies"),
        };
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                env[key] = value;
            }
        }

        return ProcessRunner.RunAsync("dotnet", [RepositoryPaths.CliAssembly, .. args], env, workingDirectory);
    }

    /// <summary>
    /// Makes a P-256 key and a CSR for the DNS name <paramref name="name"/> with OpenSSL, and issues it under tls-server
    /// with the CLI in <paramref name="directory"/>; returns the certificate's file, NAME.pem (relative to the folder).
    /// </summary>
    public static async Task<string> IssueForNewKeyAsync(string directory, string name, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var csr = await ProcessRunner.RunAsync(Prerequisites.RequireProgram("openssl", "openssl"), [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
            "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name, "-out", name + ".csr"], workingDirectory: directory);
        Assert.True(csr.ExitCode == 0, csr.Combined);
        var issue = await RunAsync(directory, ["issue", "--csr", name + ".csr", "--profile", "tls-server", "--out", name + ".pem"], environment);
        Assert.True(issue.ExitCode == 0, issue.Combined);
        return name + ".pem";
    }

    /// <summary>Writes <paramref name="json"/> as the directory's ca.config.json and returns its path.</summary>
    public static string WriteConfig(string directory, string json)
    {
        var path = Path.Combine(directory, "ca.config.json");
        File.WriteAllText(path, json);
        return path;
    }
}
