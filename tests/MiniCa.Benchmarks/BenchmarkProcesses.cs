using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MiniCa.TestSupport;

/// <summary>Peers and servers the benchmarks start as child processes (never with this process's SoftHSM store).</summary>
internal static class BenchmarkProcesses
{
    public static Process Start(string directory, string program, IEnumerable<string> args, Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        ProcessRunner.ApplyEnvironment(start, new Dictionary<string, string?>(environment) { ["SOFTHSM2_CONF"] = null });
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task WaitForPortAsync(int port)
    {
        for (var i = 0; i < 600; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"Nothing listens on port {port}.");
    }
}
