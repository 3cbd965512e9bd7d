using System.Diagnostics;
using System.Text;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>The built web host running as a child process on a free loopback port.</summary>
public sealed class WebHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WebHostProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://localhost:{port}/");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the host in <paramref name="directory"/> (where its ca.config.json is).</summary>
    public static WebHostProcess Start(string directory, int port, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepositoryPaths.WebAssembly);
        ProcessRunner.ApplyEnvironment(start, new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["MINICA_Urls"] = $"http://localhost:{port}",
            ["MINICA_PublicBaseUrl"] = $"http://localhost:{port}",
            ["MINICA_PoliciesDirectory"] = Path.Combine(RepositoryPaths.Root, "policies"),
            ["SOFTHSM2_CONF"] = null,
            ["MINICA_CONFIG"] = null,
            ["MINICA_BOOTSTRAP_ADMIN_PASSWORD"] = null,
        });
        ProcessRunner.ApplyEnvironment(start, environment);
        return new WebHostProcess(Process.Start(start)!, port);
    }

    /// <summary>Waits until <c>/healthz</c> answers 200, or fails with the host's output.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The web host exited with {_process.ExitCode}: {Output}");
            }

            try
            {
                using var response = await Client.GetAsync("healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The web host did not become healthy: " + Output);
    }

    /// <summary>Waits for the process to end by itself (a failed start).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
