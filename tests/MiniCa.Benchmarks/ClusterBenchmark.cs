using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Signing;
using MiniCa.Hosting;
using MiniCa.Hsm;
using MiniCa.TestSupport;

/// <summary>
/// The HSM cluster: issuance and signing throughput with one member and with two (each a SoftHSM2 token served
/// out of process by p11-kit), then a member failure under load: one member's server is killed and later
/// restarted while two workers issue; reported are the failed issuances (target 0), the throughput dip and the
/// p99 latency while failing over (target &lt; 1 s).
/// </summary>
internal static class ClusterBenchmark
{
    public static async Task<int> RunAsync(double seconds, int rounds)
    {
        var directory = Path.Combine(Path.GetTempPath(), "minica-bench-cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        using var a = new P11KitToken(directory, "BenchA");
        using var b = new P11KitToken(directory, "BenchB");
        try
        {
            a.Start();
            b.Start();
            var policies = Path.Combine(RepositoryPaths.Root, "policies");
            await using var two = await BuildAsync(directory, policies, [("a", a), ("b", b)], initialise: true);
            using (var source = HsmMember.Connect(a.DirectSettings("a-direct")))
            using (var target = HsmMember.Connect(b.DirectSettings("b-direct")))
            {
                var copied = KeyReplicator.Copy(source, target, ["root", "issuing"], two.GetRequiredService<HsmCluster>().ReferenceKey);
                if (copied.Any(c => c.Outcome != "copied"))
                {
                    throw new InvalidOperationException(string.Join(" ", copied.Select(c => c.Detail)));
                }
            }

            two.GetRequiredService<HsmCluster>()["b"].ForgetKeys();
            await using var one = await BuildAsync(directory, policies, [("a", a)], initialise: false);
            var csr = MakeCsr();

            Console.WriteLine($"MiniCa HSM cluster benchmark: SoftHSM2 tokens behind p11-kit servers (Unix sockets), SQLite (WAL, synchronous=FULL), {Environment.ProcessorCount} cores, {rounds} alternating rounds of {seconds:0.0} s, medians");
            Console.WriteLine();
            Console.WriteLine("| Members | Signing, issuing key P-256, 4 threads (sig/s) | Issuance, 2 workers (cert/s) |");
            Console.WriteLine("|---:|---:|---:|");
            var results = new Dictionary<int, (List<double> Sign, List<double> Issue)> { [1] = ([], []), [2] = ([], []) };
            foreach (var (count, provider) in new[] { (1, one), (2, two) })
            {
                await IssuanceBenchmark.IssueForAsync(provider.GetRequiredService<IssuanceService>(), csr, 2, 0.5); // warm-up
            }

            for (var round = 0; round < rounds; round++)
            {
                foreach (var (count, provider) in new[] { (1, one), (2, two) })
                {
                    var signer = provider.GetRequiredService<IKeyManager>().GetSigner("issuing");
                    var tbs = RandomNumberGenerator.GetBytes(560);
                    results[count].Sign.Add(Program.Measure(4, seconds, () => () => signer.Sign(SignatureAlgorithm.EcdsaSha256, tbs)));
                    results[count].Issue.Add(await IssuanceBenchmark.IssueForAsync(provider.GetRequiredService<IssuanceService>(), csr, 2, seconds));
                }
            }

            foreach (var count in new[] { 1, 2 })
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {count} | {Program.Median(results[count].Sign):0} | {Program.Median(results[count].Issue):0} |"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Two members / one: signing {Program.Median(results[2].Sign) / Program.Median(results[1].Sign):0.00} x, issuance {Program.Median(results[2].Issue) / Program.Median(results[1].Issue):0.00} x."));
            Console.WriteLine();
            return await FailoverAsync(two, a, csr);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            a.Kill();
            b.Kill();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Two workers issue for 12 s; member a's server is killed at 3 s and restarted at 7 s.</summary>
    private static async Task<int> FailoverAsync(ServiceProvider provider, P11KitToken a, byte[] csr)
    {
        var cluster = provider.GetRequiredService<HsmCluster>();
        var member = cluster["a"];
        var samples = new ConcurrentBag<(double StartedAt, double Latency, bool Ok)>();
        var clock = Stopwatch.StartNew();
        var load = IssuanceBenchmark.IssueForAsync(provider.GetRequiredService<IssuanceService>(), csr, 2, 12, (started, latency, ok) => samples.Add((started, latency, ok)), clock);
        await Task.Delay(3000);
        var killedAt = clock.Elapsed.TotalSeconds;
        a.Kill();
        while (member.State == HsmMemberState.Up && clock.Elapsed.TotalSeconds < killedAt + 10)
        {
            await Task.Delay(5);
        }

        var downAt = clock.Elapsed.TotalSeconds;
        await Task.Delay(4000 - (int)((downAt - killedAt) * 1000));
        var restartedAt = clock.Elapsed.TotalSeconds;
        a.Start();
        while (member.State != HsmMemberState.Up && clock.Elapsed.TotalSeconds < restartedAt + 10)
        {
            await Task.Delay(5);
        }

        var readmittedAt = clock.Elapsed.TotalSeconds;
        await load;

        var all = samples.OrderBy(s => s.StartedAt).ToList();
        var failed = all.Count(s => !s.Ok);
        const double Bucket = 0.25;
        var perBucket = all.GroupBy(s => (int)((s.StartedAt + s.Latency) / Bucket)).ToDictionary(g => g.Key, g => g.Count() / Bucket);
        double Rate(int bucket) => perBucket.TryGetValue(bucket, out var r) ? r : 0;
        var before = Enumerable.Range(4, (int)(killedAt / Bucket) - 4).Select(Rate).ToList();
        var outage = Enumerable.Range((int)(killedAt / Bucket), Math.Max(1, (int)((downAt + 1 - killedAt) / Bucket))).Select(Rate).ToList();
        var baseline = Program.Median(before);
        var window = all.Where(s => s.StartedAt + s.Latency >= killedAt && s.StartedAt <= downAt + 1).Select(s => s.Latency).Order().ToList();
        var p99Failover = Percentile(window, 0.99);
        var p99All = Percentile(all.Select(s => s.Latency).Order().ToList(), 0.99);
        var status = member.GetStatus();

        Console.WriteLine("| Failover under load (2 workers, 12 s) | Value | Target |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Issuances | {all.Count} | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Failed issuances | {failed} | 0 {(failed == 0 ? "met" : "NOT met")} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Member marked down after the kill | {(downAt - killedAt) * 1000:0} ms | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Readmitted after the restart | {(readmittedAt - restartedAt) * 1000:0} ms | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Throughput before the kill (median of 250 ms buckets) | {baseline:0} cert/s | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Lowest 250 ms bucket while failing over | {outage.Min():0} cert/s ({(baseline > 0 ? outage.Min() / baseline : 0):P0} of before) | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| p99 latency while failing over ({window.Count} issuances) | {p99Failover * 1000:0.0} ms | < 1000 ms {(p99Failover < 1 ? "met" : "NOT met")} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| p99 / max latency over the whole run | {p99All * 1000:0.0} / {all.Max(s => s.Latency) * 1000:0.0} ms | |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Member a: failures / readmissions | {status.Failures} / {status.Readmissions} | |"));
        return failed == 0 && p99Failover < 1 ? 0 : 1;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task<ServiceProvider> BuildAsync(string directory, string policies, (string Name, P11KitToken Token)[] members, bool initialise)
    {
        var config = Path.Combine(directory, $"ca-{members.Length}.config.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            DataDirectory = "data",
            PoliciesDirectory = policies,
            Hsm = new
            {
                Members = members.Select(m => m.Token.MemberConfig(m.Name)).ToArray(),
                CopyableKeys = true,
                OperationTimeoutSeconds = 2,
                ProbeIntervalSeconds = 1,
            },
        }));
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Error));
        services.AddMiniCa(MiniCaConfiguration.Load(["--config", config]));
        var provider = services.BuildServiceProvider();
        var bootstrapper = provider.GetRequiredService<CaBootstrapper>();
        if (initialise)
        {
            await bootstrapper.InitializeAsync();
        }
        else
        {
            await bootstrapper.PrepareDatabaseAsync();
        }

        return provider;
    }

    private static byte[] MakeCsr()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=bench.example.internal", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("bench.example.internal");
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest();
    }
}
