using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Configuration;
using MiniCa.Core.Ledger;
using MiniCa.Core.Signing;
using MiniCa.Hosting;
using MiniCa.Hsm;

/// <summary>
/// Issuance throughput: CSR in, committed certificate out (parse, verify, policy, TBS, throw-away signature and
/// every lint, record, HSM signature, check, commit), beside the bare C_Sign rate of the issuing key.
/// </summary>
internal static class IssuanceBenchmark
{
    public static async Task<int> RunAsync(double seconds, int rounds)
    {
        var root = MiniCa.TestSupport.RepositoryPaths.Root;
        var directory = Path.Combine(Path.GetTempPath(), "minica-bench-issuance-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var config = Path.Combine(directory, "ca.config.json");
            await File.WriteAllTextAsync(config, $$"""
                {
                  "DataDirectory": "data",
                  "PoliciesDirectory": "{{Path.Combine(root, "policies")}}",
                  "IssuingAuthority": "issuing-ec",
                  "Authorities": {
                    "root": { "Subject": "CN=Bench Root", "KeyAlgorithm": "P-384" },
                    "issuing-ec": { "Subject": "CN=Bench Issuing P-256", "Issuer": "root", "KeyAlgorithm": "P-256", "PathLength": 0 },
                    "issuing-rsa": { "Subject": "CN=Bench Issuing RSA-3072", "Issuer": "root", "KeyAlgorithm": "RSA-3072", "PathLength": 0 }
                  }
                }
                """);
            var services = new ServiceCollection();
            services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            var loaded = MiniCaConfiguration.Load(["--config", config]);
            services.AddMiniCa(loaded);
            await using var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<CaBootstrapper>().InitializeAsync();
            var member = provider.GetRequiredService<HsmCluster>().Members[0].Connection;
            var slot = HsmMember.FindToken(member.Library, member.Settings).Slot;

            using var subscriberKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=bench.example.internal", subscriberKey, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("bench.example.internal");
            san.AddDnsName("www.bench.example.internal");
            request.CertificateExtensions.Add(san.Build());
            var csr = request.CreateSigningRequest();
            var tbsSized = RandomNumberGenerator.GetBytes(560);

            Console.WriteLine($"MiniCa issuance benchmark: SoftHSM2, SQLite (WAL, synchronous=FULL), {Environment.ProcessorCount} cores, {rounds} alternating rounds of {seconds:0.0} s, medians");
            Console.WriteLine("Issuance = CSR parse+verify, policy, TBS, throw-away signature, 40 lints, record, HSM signature, verify, commit.");
            Console.WriteLine();
            Console.WriteLine("| Issuing key | Workers | Bare C_Sign (sig/s) | Issuance (cert/s) | Ratio | Target |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            var met = true;
            foreach (var (authority, target) in new[] { ("issuing-ec", 0.25), ("issuing-rsa", 0.8) })
            {
                var options = Copy(loaded.Options, authority);
                using var issuance = ActivatorUtilities.CreateInstance<IssuanceService>(provider, options);
                var signer = provider.GetRequiredService<IKeyManager>().GetSigner(authority);
                var scheme = SignatureAlgorithms.DefaultFor(signer.Algorithm);
                foreach (var workers in new[] { 1, 2 })
                {
                    var bare = new List<double>();
                    var issued = new List<double>();
                    await IssueForAsync(issuance, csr, workers, 0.5); // warm-up
                    for (var round = 0; round < rounds; round++)
                    {
                        bare.Add(Program.Measure(workers, seconds, () => Program.BareLoop(slot, authority, scheme, tbsSized)));
                        issued.Add(await IssueForAsync(issuance, csr, workers, seconds));
                    }

                    var b = Program.Median(bare);
                    var i = Program.Median(issued);
                    var ratio = i / b;
                    met &= ratio >= target;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {signer.Algorithm} | {workers} | {b:0} | {i:0} | {ratio:0.00} | >= {target:0.00} {(ratio >= target ? "met" : "NOT met")} |"));
                }
            }

            var total = (await provider.GetRequiredService<IIssuanceReader>().CountCertificatesAsync()).Values.Sum();
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Peak memory (working set) {self.PeakWorkingSet64 / (1024.0 * 1024):0} MiB; managed heap now {GC.GetTotalMemory(false) / (1024.0 * 1024):0} MiB; certificates issued {total}."));
            return met ? 0 : 1;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Certificates per second with <paramref name="workers"/> concurrent submitters for <paramref name="seconds"/>;
    /// with <paramref name="record"/>, every issuance's start, latency and success is reported instead of a failure
    /// ending the run.
    /// </summary>
    internal static async Task<double> IssueForAsync(IssuanceService issuance, byte[] csr, int workers, double seconds, Action<double, double, bool>? record = null, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        var start = clock.Elapsed.TotalSeconds;
        var stopAt = start + seconds;
        var counts = await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var n = 0;
            while (clock.Elapsed.TotalSeconds < stopAt)
            {
                var began = clock.Elapsed.TotalSeconds;
                var outcome = await issuance.SubmitAsync(new IssuanceSubmission { Csr = csr, Profile = "tls-server", Requester = $"bench-{w}", Source = "bench" });
                var ok = outcome.Status == RequestStatus.Issued;
                if (record is null && !ok)
                {
                    throw new InvalidOperationException("issuance failed: " + string.Join("; ", outcome.Problems));
                }

                record?.Invoke(began, clock.Elapsed.TotalSeconds - began, ok);
                n++;
            }

            return n;
        })));
        return counts.Sum() / (clock.Elapsed.TotalSeconds - start);
    }

    private static CaOptions Copy(CaOptions options, string issuingAuthority) => new()
    {
        DataDirectory = options.DataDirectory,
        PublicBaseUrl = options.PublicBaseUrl,
        Urls = options.Urls,
        PoliciesDirectory = options.PoliciesDirectory,
        IssuingAuthority = issuingAuthority,
        Hsm = options.Hsm,
        Database = options.Database,
        Authorities = options.Authorities,
    };
}
