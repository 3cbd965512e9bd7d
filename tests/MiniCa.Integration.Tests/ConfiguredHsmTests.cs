using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>An HSM named in the configuration (here a SoftHSM2 store prepared like an operator would) is used as is.</summary>
public sealed class ConfiguredHsmTests
{
    private static async Task<(TempDirectory Directory, Dictionary<string, string?> Environment)> PrepareStoreAsync(bool withToken)
    {
        var util = Prerequisites.RequireProgram("softhsm2-util", "softhsm2");
        var directory = new TempDirectory("minica-hsm-config");
        Directory.CreateDirectory(directory.Combine("tokens"));
        File.WriteAllText(directory.Combine("softhsm2.conf"), $"directories.tokendir = {directory.Combine("tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
        var environment = new Dictionary<string, string?>
        {
            ["SOFTHSM2_CONF"] = directory.Combine("softhsm2.conf"),
            ["TEST_HSM_PIN"] = "op-user-pin-4321",
        };
        if (withToken)
        {
            var init = await ProcessRunner.RunAsync(util, ["--init-token", "--free", "--label", "Operator", "--so-pin", "op-so-pin-1234", "--pin", "op-user-pin-4321"], environment);
            Assert.Equal(0, init.ExitCode);
        }

        return (directory, environment);
    }

    private static string Config(string label) => $$"""
        {
          "DataDirectory": "data",
          "Hsm": { "Members": [ { "Name": "hsm-a", "ModulePath": "{{Prerequisites.SoftHsmModule}}", "TokenLabel": "{{label}}", "PinSource": "env:TEST_HSM_PIN" } ] }
        }
        """;

    [Fact]
    public async Task Init_ConfiguredTokenMissing_FailsListingTokensAndInitialisesNothing()
    {
        var (directory, environment) = await PrepareStoreAsync(withToken: false);
        using var _ = directory;
        Minica.WriteConfig(directory.Path, Config("Operator"));

        var result = await Minica.RunAsync(directory.Path, ["init"], environment);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("token with label 'Operator' not found", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("no initialised tokens", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(directory.Combine("tokens")));
        Assert.False(Directory.Exists(directory.Combine("data", "hsm")));
    }

    [Fact]
    public async Task Init_ConfiguredToken_CreatesTheCaThereAndWebStartsOnIt()
    {
        var (directory, environment) = await PrepareStoreAsync(withToken: true);
        using var _ = directory;
        Minica.WriteConfig(directory.Path, Config("Operator"));

        // A configured HSM is never initialised by the web host: without the ceremony it refuses to start.
        await using (var refused = WebHostProcess.Start(directory.Path, FreePort.Next(), environment))
        {
            Assert.NotEqual(0, await refused.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("run 'minica init'", refused.Output, StringComparison.Ordinal);
        }

        var init = await Minica.RunAsync(directory.Path, ["init"], environment);
        Assert.True(init.ExitCode == 0, init.Combined);
        Assert.Contains("object=root", init.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("token=Operator", init.StandardOutput, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("data", "hsm")), "no embedded store when an HSM is configured");

        await using var host = WebHostProcess.Start(directory.Path, FreePort.Next(), environment);
        await host.WaitUntilHealthyAsync();
        Assert.Equal(File.ReadAllBytes(directory.Combine("data", "ca", "issuing.crt")), await host.Client.GetByteArrayAsync("ca/issuing.crt"));
    }

    [Fact]
    public async Task BackupVerify_ConfiguredHsm_ComparesTheKeysThereAndFindsThemMissingOnAnotherToken()
    {
        var (directory, environment) = await PrepareStoreAsync(withToken: true);
        using var _ = directory;
        Minica.WriteConfig(directory.Path, Config("Operator"));
        var init = await Minica.RunAsync(directory.Path, ["init"], environment);
        Assert.True(init.ExitCode == 0, init.Combined);
        var made = await Minica.RunAsync(directory.Path, ["backup", "--out", "backup"], environment);
        Assert.True(made.ExitCode == 0, made.Combined);
        Assert.Contains("the keys are in the configured HSM: back them up with its own tools", made.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(MiniCa.Hosting.BackupManifest.Read(directory.Combine("backup")).Files, f => f.Path.Contains("/hsm/", StringComparison.Ordinal));

        var verified = await Minica.RunAsync(directory.Path, ["backup", "verify", "backup"], environment);
        Assert.True(verified.ExitCode == 0, verified.Combined);
        Assert.Contains("ok     Keys: in the configured HSM (its keys are not in the backup): key 'root' of authority 'root' is on hsm-a with its certificate's public key; key 'issuing' of authority 'issuing' is on hsm-a with its certificate's public key.", verified.StandardOutput, StringComparison.Ordinal);

        // The same configuration on another store, whose token 'Operator' holds none of the CA's keys.
        var (elsewhere, otherEnvironment) = await PrepareStoreAsync(withToken: true);
        using var __ = elsewhere;
        var missing = await Minica.RunAsync(directory.Path, ["backup", "verify", "backup"], otherEnvironment);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("FAILED Keys: in the configured HSM (its keys are not in the backup): authority 'root' (serial ", missing.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("): hsm-a does not hold the key 'root' ('root' is not on token 'Operator')", missing.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HsmStatus_WrongPin_FailsWithOneLineNamingThePin()
    {
        var (directory, environment) = await PrepareStoreAsync(withToken: true);
        using var _ = directory;
        Minica.WriteConfig(directory.Path, Config("Operator"));
        environment["TEST_HSM_PIN"] = "not-the-pin";

        var result = await Minica.RunAsync(directory.Path, ["hsm", "status"], environment);

        Assert.Equal(1, result.ExitCode);
        // Standard error ends with the error's one line; before it, at most the cluster's own warning log lines
        // (logs go to standard error), and no stack trace.
        var lines = result.StandardError.Trim().Split('\n');
        Assert.Equal(
            "minica: error: HSM member 'hsm-a': token 'Operator' refused the user PIN (CKR_PIN_INCORRECT). Check the member's PinSource.",
            lines[^1].Trim());
        Assert.All(lines[..^1], line => Assert.StartsWith("warn: ", line, StringComparison.Ordinal));
    }
}
