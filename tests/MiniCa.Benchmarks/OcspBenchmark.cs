using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MiniCa.TestSupport;

/// <summary>
/// OCSP throughput under wrk (2 threads, 16 connections, POSTing one DER request without a nonce): MiniCa's web
/// host, <c>cfssl ocspserve</c> (pre-signed responses) and <c>openssl ocsp -multi 2</c>, one after another in the
/// same run. The peers answer for a software CA with one certificate, MiniCa for its HSM-backed issuing CA.
/// </summary>
internal static partial class OcspBenchmark
{
    public static async Task<int> RunAsync(double seconds)
    {
        var repository = RepositoryPaths.Root;
        var web = RepositoryPaths.WebAssembly;
        var cli = RepositoryPaths.CliAssembly;
        var directory = Path.Combine(Path.GetTempPath(), "minica-bench-ocsp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var processes = new List<Process>();
        try
        {
            var duration = $"{Math.Max(3, (int)Math.Round(seconds))}s";
            await File.WriteAllTextAsync(Path.Combine(directory, "post.lua"), """
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/ocsp-request"
                local f = io.open("req.der", "rb")
                wrk.body = f:read("*all")
                f:close()
                """);

            // MiniCa: first start provisions the token and the CA; one certificate is issued by the CLI beside it.
            var port = FreePort.Next();
            await File.WriteAllTextAsync(Path.Combine(directory, "ca.config.json"), $$"""
                { "DataDirectory": "data", "PoliciesDirectory": "{{Path.Combine(repository, "policies")}}", "Urls": "http://127.0.0.1:{{port}}", "PublicBaseUrl": "http://127.0.0.1:{{port}}",
                  "Logging": { "LogLevel": { "Default": "Warning" } } }
                """);
            processes.Add(BenchmarkProcesses.Start(directory, "dotnet", [web], new() { ["ASPNETCORE_ENVIRONMENT"] = "Production" }));
            await BenchmarkProcesses.WaitForPortAsync(port);
            await Run(directory, "openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-subj", "/CN=bench.example.internal", "-addext", "subjectAltName=DNS:bench.example.internal", "-out", "leaf.csr"]);
            await Run(directory, "dotnet", [cli, "issue", "--csr", "leaf.csr", "--profile", "tls-server", "--out", "leaf.pem"]);
            await Run(directory, "openssl", ["ocsp", "-issuer", "data/ca/issuing.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der"]);
            await ExpectGoodAsync(directory, "data/ca/issuing.pem", $"http://127.0.0.1:{port}/ocsp", "data/ca/root.pem");
            var miniCa = await WrkAsync(directory, $"http://127.0.0.1:{port}/ocsp", duration);

            // The peers: a software CA with one certificate.
            var peers = Path.Combine(directory, "peers");
            Directory.CreateDirectory(peers);
            File.Copy(Path.Combine(directory, "post.lua"), Path.Combine(peers, "post.lua"));
            await Run(peers, "openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Peer CA", "-days", "30", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", "-addext", "extendedKeyUsage=OCSPSigning"]);
            await Run(peers, "openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-subj", "/CN=peer.example", "-out", "leaf.csr"]);
            await Run(peers, "openssl", ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "4660", "-days", "10", "-out", "leaf.pem"]);
            await Run(peers, "openssl", ["ocsp", "-issuer", "ca.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der"]);
            var expiry = DateTime.UtcNow.AddDays(10).ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture);
            await File.WriteAllTextAsync(Path.Combine(peers, "index.txt"), $"V\t{expiry}\t\t1234\tunknown\t/CN=peer.example\n");

            var opensslPort = FreePort.Next();
            processes.Add(BenchmarkProcesses.Start(peers, "openssl", ["ocsp", "-index", "index.txt", "-port", opensslPort.ToString(CultureInfo.InvariantCulture), "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA", "ca.pem", "-multi", "2", "-ndays", "1"], []));
            // No bare TCP probe: a connection that closes without sending wedges an openssl ocsp child (TOOLING.md).
            await ExpectGoodAsync(peers, "ca.pem", $"http://127.0.0.1:{opensslPort}/", "ca.pem");
            // No warm-up either: wrk cuts its connections when a run ends, which wedges openssl ocsp for the next run.
            var openssl = await WrkAsync(peers, $"http://127.0.0.1:{opensslPort}/", duration, warmUp: false);

            var signed = await Output(peers, "cfssl", ["ocspsign", "-ca", "ca.pem", "-responder", "ca.pem", "-responder-key", "ca.key", "-cert", "leaf.pem", "-status", "good"]);
            var response = Regex.Match(signed, "\"ocspResponse\":\"([^\"]+)\"").Groups[1].Value;
            await File.WriteAllTextAsync(Path.Combine(peers, "responses"), response + "\n");
            var cfsslPort = FreePort.Next();
            processes.Add(BenchmarkProcesses.Start(peers, "cfssl", ["ocspserve", "-address", "127.0.0.1", "-port", cfsslPort.ToString(CultureInfo.InvariantCulture), "-responses", "responses"], []));
            await ExpectGoodAsync(peers, "ca.pem", $"http://127.0.0.1:{cfsslPort}/", "ca.pem");
            var cfssl = await WrkAsync(peers, $"http://127.0.0.1:{cfsslPort}/", duration);

            Console.WriteLine($"MiniCa OCSP benchmark: wrk -t2 -c16 -d{duration}, POST of one DER request without a nonce (pre-signed path), {Environment.ProcessorCount} cores.");
            Console.WriteLine();
            Console.WriteLine("| Responder | Requests/s | p50 | p99 | Errors |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, result) in new[] { ("MiniCa (HSM-backed, pre-signed)", miniCa), ("cfssl ocspserve (pre-signed)", cfssl), ("openssl ocsp -multi 2 (signs each)", openssl) })
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {result.Rate:0} | {result.P50} | {result.P99} | {result.Errors} |"));
            }

            var overCfssl = miniCa.Rate / cfssl.Rate;
            var overOpenSsl = miniCa.Rate / openssl.Rate;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MiniCa = {overCfssl:0.00} x cfssl (target >= 2), {overOpenSsl:0.00} x OpenSSL (target >= 3), p99 {miniCa.P99} (target < 10 ms), {miniCa.Errors} errors (target 0)."));
            return overCfssl >= 2 && overOpenSsl >= 3 && miniCa.Errors == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }

                process.Dispose();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Waits until the responder answers "good" for leaf.pem (so the load test measures real answers).</summary>
    private static async Task ExpectGoodAsync(string directory, string issuer, string url, string trust)
    {
        string last = string.Empty;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                last = await Output(directory, "openssl", ["ocsp", "-issuer", issuer, "-cert", "leaf.pem", "-url", url, "-no_nonce", "-CAfile", trust, "-VAfile", trust]);
                if (last.Contains("leaf.pem: good", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (InvalidOperationException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"{url} never answered good: {last}");
    }

    private static async Task<(double Rate, string P50, string P99, long Errors)> WrkAsync(string directory, string url, string duration, bool warmUp = true)
    {
        // Warm-up, then the measured run.
        if (warmUp)
        {
            await Output(directory, "wrk", ["-t2", "-c16", "-d5s", "-s", "post.lua", url]);
        }

        var output = await Output(directory, "wrk", ["-t2", "-c16", $"-d{duration}", "--latency", "-s", "post.lua", url]);
        var rate = double.Parse(Regex.Match(output, @"Requests/sec:\s+([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var p50 = Regex.Match(output, @"^\s+50%\s+(\S+)", RegexOptions.Multiline).Groups[1].Value;
        var p99 = Regex.Match(output, @"^\s+99%\s+(\S+)", RegexOptions.Multiline).Groups[1].Value;
        if (rate == 0)
        {
            Console.Error.WriteLine($"wrk against {url} measured nothing:\n{output}");
        }

        // A sanity check that the answers are whole responses, not short errors: bytes per response.
        var transfer = Regex.Match(output, @"Transfer/sec:\s+([\d.]+)(\w+)");
        var bytes = double.Parse(transfer.Groups[1].Value, CultureInfo.InvariantCulture) * (transfer.Groups[2].Value switch { "KB" => 1024, "MB" => 1024 * 1024, "GB" => 1024 * 1024 * 1024, _ => 1 });
        Console.Error.WriteLine($"{url}: {rate:0} req/s, {bytes / Math.Max(rate, 1):0} bytes per response (headers included)");
        var errors = Regex.Matches(output, @"(?:Non-2xx or 3xx responses:|Socket errors: connect) (\d+)").Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            + Regex.Matches(output, @"(?:read|write|timeout) (\d+)").Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        return (rate, p50, p99, errors);
    }


    private static async Task Run(string directory, string program, string[] args) => await Output(directory, program, args);

    private static async Task<string> Output(string directory, string program, string[] args)
    {
        var result = await ProcessRunner.RunAsync(program, args, new Dictionary<string, string?> { ["SOFTHSM2_CONF"] = null }, directory);
        return result.ExitCode == 0
            ? result.Combined
            : throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {result.Combined}");
    }

}
