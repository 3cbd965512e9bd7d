using System.Diagnostics;
using MiniCa.Hsm;

namespace MiniCa.TestSupport;

/// <summary>
/// A SoftHSM2 token in its own store, served out of process by <c>p11-kit server</c> over a Unix socket, so that
/// an HSM member can really die: <see cref="Kill"/> kills the server and the per-client processes it forked
/// (SIGKILL to its process group), <see cref="Start"/> serves the same token again.
/// </summary>
public sealed class P11KitToken : IDisposable
{
    public const string ClientModule = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so";

    private readonly string _directory;
    private Process? _server;

    public P11KitToken(string directory, string label)
    {
        RequireP11Kit();
        Prerequisites.RequireSoftHsm();
        Label = label;
        _directory = Path.Combine(directory, label);
        Directory.CreateDirectory(Path.Combine(_directory, "tokens"));
        ConfigFile = Path.Combine(_directory, "softhsm2.conf");
        File.WriteAllText(ConfigFile, $"directories.tokendir = {Path.Combine(_directory, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
        SocketPath = Path.Combine(_directory, "p11.sock");
        var init = ProcessRunner.RunAsync(
            Prerequisites.RequireProgram("softhsm2-util", "softhsm2"),
            ["--init-token", "--free", "--label", label, "--so-pin", SoPin, "--pin", UserPin],
            new Dictionary<string, string?> { ["SOFTHSM2_CONF"] = ConfigFile }).GetAwaiter().GetResult();
        if (init.ExitCode != 0)
        {
            throw new InvalidOperationException($"softhsm2-util --init-token failed: {init.StandardError}");
        }

        // Members name their PINs by source, never by value.
        Environment.SetEnvironmentVariable(PinVariable, UserPin);
        Environment.SetEnvironmentVariable(SoPinVariable, SoPin);
    }

    public string Label { get; }

    public string ConfigFile { get; }

    public string SocketPath { get; }

    public string UserPin => "user-pin-" + Label;

    public string SoPin => "so-pin-" + Label;

    public bool Running => _server is { HasExited: false };

    private string PinVariable => "MINICA_TEST_PIN_" + Label;

    private string SoPinVariable => "MINICA_TEST_SOPIN_" + Label;

    /// <summary>A member that opens this token's store with SoftHSM2 itself, through a private module copy.</summary>
    public HsmMemberSettings DirectSettings(string name) => new()
    {
        Name = name,
        ModulePath = Prerequisites.SoftHsmModule,
        TokenLabel = Label,
        PinSource = "env:" + PinVariable,
        SoPinSource = "env:" + SoPinVariable,
        ModuleEnvironment = DirectEnvironment,
        MaxSessions = 4,
    };

    /// <summary>
    /// This token as an entry of <c>Hsm:Members</c> in a configuration file: reached through p11-kit's client
    /// (a member that can be killed), or with <paramref name="direct"/> through SoftHSM2 itself.
    /// </summary>
    public object MemberConfig(string name, bool direct = false) => new
    {
        Name = name,
        ModulePath = direct ? Prerequisites.SoftHsmModule : ClientModule,
        TokenLabel = Label,
        PinSource = "env:" + PinVariable,
        SoPinSource = "env:" + SoPinVariable,
        ModuleEnvironment = direct ? DirectEnvironment : ModuleEnvironment,
    };

    /// <summary>What a member's <c>ModuleEnvironment</c> needs to open this token's store with SoftHSM2 itself (in process).</summary>
    public Dictionary<string, string> DirectEnvironment => new() { ["SOFTHSM2_CONF"] = ConfigFile };

    /// <summary>What a member's <c>ModuleEnvironment</c> needs to reach this token through p11-kit's client.</summary>
    public Dictionary<string, string> ModuleEnvironment => new() { ["P11_KIT_SERVER_ADDRESS"] = "unix:path=" + SocketPath };

    public static void RequireP11Kit()
    {
        Prerequisites.RequireProgram("p11-kit", "p11-kit");
        if (!File.Exists(ClientModule))
        {
            throw new InvalidOperationException($"p11-kit's client module is missing ({ClientModule}): run 'apt-get install -y p11-kit-modules' or ./test.sh, which installs it.");
        }
    }

    /// <summary>Starts serving the token and waits until the socket accepts connections.</summary>
    public void Start()
    {
        if (Running)
        {
            return;
        }

        File.Delete(SocketPath);
        var start = new ProcessStartInfo(Prerequisites.RequireProgram("setsid", "util-linux"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "p11-kit", "server", "-f", "-n", SocketPath, "--provider", Prerequisites.SoftHsmModule, "pkcs11:token=" + Label })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SOFTHSM2_CONF"] = ConfigFile;
        _server = Process.Start(start) ?? throw new InvalidOperationException("p11-kit server did not start.");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(SocketPath))
        {
            if (_server.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"p11-kit server for token '{Label}' did not open {SocketPath}.");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>Freezes the server and its forked processes (SIGSTOP): the token stops answering without an error.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>Lets a paused server go on (SIGCONT).</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        if (_server is null)
        {
            throw new InvalidOperationException($"p11-kit server for '{Label}' is not running.");
        }

        using var kill = Process.Start("kill", [signal, "--", "-" + _server.Id]);
        kill?.WaitForExit();
    }

    /// <summary>Kills the server and every process it forked for clients (the whole process group).</summary>
    public void Kill()
    {
        if (_server is null)
        {
            return;
        }

        Signal("-KILL");
        _server.WaitForExit();
        _server.Dispose();
        _server = null;
    }

    public void Dispose() => Kill();
}
