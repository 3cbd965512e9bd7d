using System.Diagnostics;
using System.Globalization;
using MiniCa.TestSupport;

/// <summary>
/// Complete ACME issuances per second (new order → validation → finalize → certificate downloaded) with lego run as
/// 4 parallel clients, against MiniCa and against Pebble in the same run: same client, same names, same http-01
/// responder (a shared webroot served by one static file server) and the same DNS server (pebble-challtestsrv
/// answering 127.0.0.1). Rounds alternate; MiniCa's server CPU time per issuance is read from /proc.
/// </summary>
internal static class AcmeBenchmark
{
    private const int Clients = 4;

    public static async Task<int> RunAsync(int perClient, int rounds)
    {
        var directory = Path.Combine(Path.GetTempPath(), "minica-bench-acme-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var processes = new List<Process>();
        try
        {
            var lego = Prerequisites.RequireProgram("lego", "lego");
            var webroot = Path.Combine(directory, "webroot");
            Directory.CreateDirectory(webroot);
            var (httpPort, dnsPort, managementPort, miniCaPort, pebblePort, pebbleManagement) =
                (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
            processes.Add(BenchmarkProcesses.Start(directory, Prerequisites.RequireProgram("pebble-challtestsrv", "pebble"),
                ["-dns01", $"127.0.0.1:{dnsPort}", "-http01", string.Empty, "-https01", string.Empty, "-tlsalpn01", string.Empty, "-management", $"127.0.0.1:{managementPort}", "-defaultIPv6", string.Empty], []));
            processes.Add(BenchmarkProcesses.Start(webroot, Prerequisites.RequireProgram("python3", "python3"), ["-m", "http.server", httpPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1"], []));

            // MiniCa: embedded HSM and SQLite, as ./run.sh starts it, validating on the shared ports and DNS server.
            await File.WriteAllTextAsync(Path.Combine(directory, "ca.config.json"), $$"""
                { "DataDirectory": "data", "PoliciesDirectory": "{{Path.Combine(RepositoryPaths.Root, "policies")}}",
                  "Urls": "http://127.0.0.1:{{miniCaPort}}", "PublicBaseUrl": "http://127.0.0.1:{{miniCaPort}}",
                  "Acme": { "Validation": { "HttpPort": {{httpPort}}, "DnsResolver": "127.0.0.1:{{dnsPort}}" } },
                  "Logging": { "LogLevel": { "Default": "Warning" } } }
                """);
            var miniCa = BenchmarkProcesses.Start(directory, "dotnet", [RepositoryPaths.WebAssembly], new() { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["MINICA_BOOTSTRAP_ADMIN_PASSWORD"] = "benchmark-admin-password" });
            processes.Add(miniCa);
            await BenchmarkProcesses.WaitForPortAsync(miniCaPort);

            // Pebble: in memory, over HTTPS with a throw-away certificate, no validation sleep, no nonce rejection.
            var pebbleDir = Path.Combine(directory, "pebble");
            Directory.CreateDirectory(pebbleDir);
            await Run(pebbleDir, "openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=localhost", "-days", "2", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]);
            await File.WriteAllTextAsync(Path.Combine(pebbleDir, "pebble.json"), $$"""
                { "pebble": { "listenAddress": "127.0.0.1:{{pebblePort}}", "managementListenAddress": "127.0.0.1:{{pebbleManagement}}",
                  "certificate": "cert.pem", "privateKey": "key.pem", "httpPort": {{httpPort}}, "tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": false } }
                """);
            processes.Add(BenchmarkProcesses.Start(pebbleDir, Prerequisites.RequireProgram("pebble", "pebble"), ["-config", "pebble.json", "-dnsserver", $"127.0.0.1:{dnsPort}"],
                new() { ["PEBBLE_VA_NOSLEEP"] = "1", ["PEBBLE_WFE_NONCEREJECT"] = "0", ["PEBBLE_AUTHZREUSE"] = "0" }));
            await BenchmarkProcesses.WaitForPortAsync(pebblePort);

            var targets = new (string Name, string Directory, string? Trust)[]
            {
                ("MiniCa", $"http://127.0.0.1:{miniCaPort}/acme/directory", null),
                ("Pebble", $"https://127.0.0.1:{pebblePort}/dir", Path.Combine(pebbleDir, "cert.pem")),
            };

            // Warm-up: one issuance each (account registration, JIT, first HSM use).
            foreach (var target in targets)
            {
                await IssueAsync(lego, directory, webroot, target, $"warm-{target.Name.ToLowerInvariant()}", "warm.example.com");
            }

            var rates = targets.ToDictionary(t => t.Name, _ => new List<double>());
            var cpuPerIssuance = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var target in targets)
                {
                    var cpuBefore = CpuSeconds(miniCa.Id);
                    var watch = Stopwatch.StartNew();
                    await Task.WhenAll(Enumerable.Range(0, Clients).Select(async client =>
                    {
                        for (var i = 0; i < perClient; i++)
                        {
                            await IssueAsync(lego, directory, webroot, target, $"{target.Name.ToLowerInvariant()}-r{round}-c{client}", $"bench-r{round}-c{client}-{i}.example.com");
                        }
                    }));
                    var elapsed = watch.Elapsed.TotalSeconds;
                    rates[target.Name].Add(Clients * perClient / elapsed);
                    if (target.Name == "MiniCa")
                    {
                        cpuPerIssuance.Add((CpuSeconds(miniCa.Id) - cpuBefore) * 1000 / (Clients * perClient));
                    }
                }
            }

            var miniCaRate = Median(rates["MiniCa"]);
            var pebbleRate = Median(rates["Pebble"]);
            Console.WriteLine($"MiniCa ACME benchmark: lego {Clients} parallel clients x {perClient} issuances (new order, http-01, finalize, download) per round, {rounds} alternating rounds, medians, {Environment.ProcessorCount} cores.");
            Console.WriteLine();
            Console.WriteLine("| Server | Issuances/s (rounds) | Median |");
            Console.WriteLine("|---|---|---:|");
            foreach (var (name, list) in rates)
            {
                Console.WriteLine($"| {name} | {string.Join(", ", list.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))} | {Median(list):0.00} |");
            }

            Console.WriteLine();
            Console.WriteLine($"MiniCa / Pebble: {miniCaRate / pebbleRate:0.00} x (target >= 1.0: {(miniCaRate >= pebbleRate ? "met" : "NOT met")}).");
            Console.WriteLine($"MiniCa server CPU time per issuance: {Median(cpuPerIssuance):0.0} ms (rounds: {string.Join(", ", cpuPerIssuance.Select(c => c.ToString("0.0", CultureInfo.InvariantCulture)))}).");
            return 0;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task IssueAsync(string lego, string directory, string webroot, (string Name, string Directory, string? Trust) target, string account, string name)
    {
        var path = Path.Combine(directory, "lego", account);
        var result = await ProcessRunner.RunAsync(lego, ["--server", target.Directory, "--email", "bench@example.com", "--accept-tos", "--path", path, "--domains", name, "--http", "--http.webroot", webroot, "run"],
            new Dictionary<string, string?> { ["LEGO_CA_CERTIFICATES"] = target.Trust, ["SOFTHSM2_CONF"] = null, ["SSL_CERT_FILE"] = null }, directory, TimeSpan.FromSeconds(120));
        if (result.ExitCode != 0 || !File.Exists(Path.Combine(path, "certificates", name + ".crt")))
        {
            throw new InvalidOperationException($"lego against {target.Name} failed for {name}: {result.Combined}");
        }
    }

    /// <summary>utime + stime of a process, in seconds (Linux /proc, 100 ticks per second).</summary>
    private static double CpuSeconds(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }


    private static async Task Run(string directory, string program, string[] args)
    {
        var result = await ProcessRunner.RunAsync(program, args, null, directory);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {result.Combined}");
        }
    }

}
