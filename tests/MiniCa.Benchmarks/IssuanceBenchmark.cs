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
using MiniCa.Core.Telemetry;
using MiniCa.Hosting;
using MiniCa.Hsm;

/// <summary>
/// Issuance throughput: CSR in, committed certificate out (parse, verify, policy, TBS, throw-away signature and
/// every lint, record, HSM signature, verify, commit), beside the bare C_Sign rate of the issuing key. "Workers"
/// are CPU cores: each measurement runs in a child process pinned with taskset to 1 or 2 cores, so the CA's
/// threads, SQLite and SoftHSM2 share exactly the cores the bare C_Sign loop gets (1 or 2 signing threads). The
/// CA is offered <see cref="InFlightPerCore"/> requests at a time per core, as a server with that many clients is;
/// every certificate is durably committed (synchronous=FULL) before its request completes.
/// </summary>
internal static class IssuanceBenchmark
{
    /// <summary>
    /// Requests in flight per core, as from this many concurrent clients. Each request waits for two durable
    /// commits; with 32 on two cores, P-256 kept only 1.5-1.7 of the cores busy in a scratch harness (latency, not
    /// capacity, set the rate), with 64 1.6-1.7 and 20 % more certificates per second. On one core, and with
    /// RSA-3072 on two, the cores are busy either way and the rate did not move.
    /// </summary>
    private const int InFlightPerCore = 32;

    /// <summary>Distinct CSRs (keys and names) the load cycles through, so nothing is cached between requests.</summary>
    private const int DistinctCsrs = 2048;

    /// <summary>Seconds each round's load runs before its measured window opens (the requests fill the pipeline).</summary>
    private const double Ramp = 0.5;

    /// <summary>Certificates issued into this process's database so far (warm-ups included): the tables grow through the run.</summary>
    private static long s_issued;

    public static async Task<int> RunAsync(double seconds, int rounds)
    {
        Console.WriteLine($"MiniCa issuance benchmark: SoftHSM2, SQLite (WAL, synchronous=FULL, group commit), {InFlightPerCore} requests in flight per core, {DistinctCsrs} distinct P-256 CSRs, {rounds} alternating rounds of {seconds:0.0} s after a warm-up until the JIT has compiled nothing for a 2.5 s round, medians; each issuance round measured after {Ramp:0.0} s of load, without the drain of its last requests");
        Console.WriteLine("Issuance = CSR parse+verify, policy, TBS, throw-away signature, every lint, durable record, HSM signature, signature verified, durable commit.");
        Console.WriteLine("Workers = cores: each row runs in a process pinned to that many cores (taskset); the bare C_Sign loop runs one thread per core in the same process.");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"A system call costs {SystemCallMicroseconds():0.00} µs on this host before the rows (sched_yield with nothing else to run)."));
        Console.WriteLine();
        Console.WriteLine("| Issuing key | Workers (cores) | Bare C_Sign (sig/s) | Issuance (cert/s) | Ratio | Target | Latency p50 / p99 (ms) | CPU per certificate (ms) | Writer thread per certificate (µs) | Writer statements / commit / checkpoint / holding / idle (% of the time) | Cores busy | Peak memory (MiB) | Warm-up (s) | Certificates in the database |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var exit = 0;
        foreach (var cores in new[] { 1, 2 })
        {
            var cpuList = string.Join(',', Enumerable.Range(0, cores));
            using var child = Process.Start(new ProcessStartInfo("taskset",
                ["-c", cpuList, Environment.ProcessPath!, typeof(IssuanceBenchmark).Assembly.Location, "--suite", "issuance-pinned", "--cores", cores.ToString(CultureInfo.InvariantCulture),
                 "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--rounds", rounds.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("taskset (util-linux) is needed to pin the benchmark to cores");
            await child.WaitForExitAsync();
            exit = Math.Max(exit, child.ExitCode);
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"A system call costs {SystemCallMicroseconds():0.00} µs on this host after the rows."));
        return exit;
    }

    /// <summary>
    /// What one system call costs here, in µs (median of five runs of 100,000 calls to sched_yield, which returns at
    /// once when nothing else is runnable). An issuance makes about 40 more system calls than a bare signature (the
    /// writer's pwrite and pread, the thread pool's futex and sched_yield: about 65-69 against 20-26, counted with
    /// perf in the sixteenth session), so where they are dear, as on the paravirtualized host of the sixteenth
    /// session (1.0-1.8 µs), the ratio falls and the bare P-256 rate with it. The figure lets a reader tell such a run apart.
    /// </summary>
    private static double SystemCallMicroseconds()
    {
        const int Calls = 100_000;
        var runs = new List<double>();
        for (var run = 0; run < 5; run++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var call = 0; call < Calls; call++)
            {
                Thread.Yield();
            }

            runs.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / Calls);
        }

        return Program.Median(runs);
    }

    /// <summary>One row per issuing key, measured in this process (already pinned to <paramref name="cores"/> cores).</summary>
    public static async Task<int> RunPinnedAsync(int cores, double seconds, int rounds, bool postgres = false)
    {
        var root = MiniCa.TestSupport.RepositoryPaths.Root;
        var directory = Path.Combine(Path.GetTempPath(), "minica-bench-issuance-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        // With PostgreSQL the server's processes inherit this process's pinning: they share its cores with the CA and
        // the bare loop. Its commits are flushed to disk (fsync on), as SQLite's are (synchronous=FULL).
        await using var server = postgres ? await MiniCa.TestSupport.PostgresServer.StartAsync(durable: true) : null;
        try
        {
            var database = "\"Provider\": \"Sqlite\"";
            if (server is not null)
            {
                await server.CreateDatabaseAsync("bench");
                database = $"\"Provider\": \"Postgres\", \"ConnectionString\": \"{server.ConnectionString("bench")}\"";
            }

            var config = Path.Combine(directory, "ca.config.json");
            await File.WriteAllTextAsync(config, $$"""
                {
                  "DataDirectory": "data",
                  "Database": { {{database}} },
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
            var csrs = Enumerable.Range(0, DistinctCsrs).Select(Csr).ToArray();
            var tbsSized = RandomNumberGenerator.GetBytes(560);

            var met = true;
            foreach (var (authority, target) in new[] { ("issuing-ec", 0.25), ("issuing-rsa", 0.8) })
            {
                var options = Copy(loaded.Options, authority);
                using var issuance = ActivatorUtilities.CreateInstance<IssuanceService>(provider, options);
                var signer = provider.GetRequiredService<IKeyManager>().GetSigner(authority);
                var scheme = SignatureAlgorithms.DefaultFor(signer.Algorithm);
                var bare = new List<double>();
                var issued = new List<(double Rate, double P50, double P99, double CpuMs, double WriterUs, double Busy, WriterShares Writer)>();
                // Warm-up until tiered compilation (and dynamic PGO) has settled: on one core the JIT's background
                // thread shares the core with the load, and after a 3 s warm-up the CA still ran instrumented code
                // (P-256 on one core: ~780 cert/s after 3 s, ~1,000 after 20 s, ~1,600 after 40 s).
                var inFlight = InFlightPerCore * cores;
                var warmUp = await WarmUpAsync(issuance, csrs, inFlight);
                Program.Measure(cores, 1, () => Program.BareLoop(slot, authority, scheme, tbsSized));
                for (var round = 0; round < rounds; round++)
                {
                    bare.Add(Program.Measure(cores, seconds, () => Program.BareLoop(slot, authority, scheme, tbsSized)));
                    issued.Add(await IssuePipelinedAsync(issuance, csrs, inFlight, seconds));
                }

                var b = Program.Median(bare);
                var i = Program.Median(issued.Select(x => x.Rate).ToList());
                var ratio = i / b;
                met &= ratio >= target;
                using var self = Process.GetCurrentProcess();
                self.Refresh();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {signer.Algorithm} | {cores} | {b:0} | {i:0} | {ratio:0.000} | >= {target:0.00} {(ratio >= target ? "met" : "NOT met")} | {Program.Median(issued.Select(x => x.P50).ToList()):0.0} / {Program.Median(issued.Select(x => x.P99).ToList()):0.0} | {Program.Median(issued.Select(x => x.CpuMs).ToList()):0.00} | {Program.Median(issued.Select(x => x.WriterUs).ToList()):0} | {Program.Median(issued.Select(x => x.Writer.Statements).ToList()):0} / {Program.Median(issued.Select(x => x.Writer.Commit).ToList()):0} / {Program.Median(issued.Select(x => x.Writer.Checkpoint).ToList()):0} / {Program.Median(issued.Select(x => x.Writer.Holding).ToList()):0} / {Program.Median(issued.Select(x => x.Writer.Idle).ToList()):0} | {Program.Median(issued.Select(x => x.Busy).ToList()):0.00} of {cores} | {self.PeakWorkingSet64 / (1024.0 * 1024):0} | {warmUp:0} | {Volatile.Read(ref s_issued):N0} |"));
            }

            return met ? 0 : 1;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Issues in rounds of 2.5 s (a 2 s window after the ramp) until the JIT is done: a round in which no method was
    /// compiled (tier-0, instrumented or optimized), after at least 6 s and at most 120 s; returns the seconds spent.
    /// </summary>
    private static async Task<double> WarmUpAsync(IssuanceService issuance, byte[][] csrs, int inFlight)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 120)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            await IssuePipelinedAsync(issuance, csrs, inFlight, 2);
            if (clock.Elapsed.TotalSeconds >= 6 && System.Runtime.JitInfo.GetCompiledMethodCount() == compiled)
            {
                break;
            }
        }

        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>A P-256 CSR of its own key for host<paramref name="index"/>.bench.example.internal and its www name.</summary>
    private static byte[] Csr(int index)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var host = $"host{index}.bench.example.internal";
        var request = new CertificateRequest("CN=" + host, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(host);
        san.AddDnsName("www." + host);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest();
    }

    /// <summary>
    /// Certificates per second, latency percentiles in ms, the process's CPU time per certificate (ms) and in cores
    /// busy, and the database writer thread's CPU time per certificate (µs), with <paramref name="inFlight"/> requests
    /// always outstanding, over a window of <paramref name="seconds"/>.
    /// The load runs for <see cref="Ramp"/> s before the window opens, and the requests still in flight when it
    /// closes are not waited for: the pipeline filling at the start of a round and draining at its end (fewer and
    /// fewer requests beside the last ones) are not counted, as a server under sustained load has neither.
    /// </summary>
    private static async Task<(double Rate, double P50, double P99, double CpuMs, double WriterUs, double Busy, WriterShares Writer)> IssuePipelinedAsync(IssuanceService issuance, byte[][] csrs, int inFlight, double seconds)
    {
        var clock = Stopwatch.StartNew();
        var end = Ramp + seconds;
        var window = new Window(Ramp, end);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(c => Task.Run(async () =>
        {
            while (clock.Elapsed.TotalSeconds < end)
            {
                var began = clock.Elapsed.TotalSeconds;
                var csr = csrs[(uint)Interlocked.Increment(ref next) % csrs.Length];
                var outcome = await issuance.SubmitAsync(new IssuanceSubmission { Csr = csr, Profile = "tls-server", Requester = $"bench-{c}", Source = "bench" });
                if (outcome.Status != RequestStatus.Issued)
                {
                    throw new InvalidOperationException("issuance failed: " + string.Join("; ", outcome.Problems));
                }

                window.Completed(began, clock.Elapsed.TotalSeconds);
                Interlocked.Increment(ref s_issued);
            }
        })));
        return window.Result();
    }

    /// <summary>
    /// The measured window of a round: it opens at the first completion after <paramref name="from"/> s and closes at
    /// the first completion after <paramref name="to"/> s, and holds the completions in between, with the process's
    /// and the database writer thread's CPU time read at both ends.
    /// </summary>
    private sealed class Window(double from, double to)
    {
        private readonly List<double> _latencies = [];
        private double _opened = -1;
        private double _closed = -1;
        private TimeSpan _cpuOpened;
        private TimeSpan _cpuClosed;
        private TimeSpan _writerOpened;
        private TimeSpan _writerClosed;
        private double[] _statesOpened = [];
        private double[] _statesClosed = [];

        public void Completed(double began, double done)
        {
            lock (_latencies)
            {
                if (done < from || _closed >= 0)
                {
                    return;
                }

                if (_opened < 0)
                {
                    _opened = done;
                    _cpuOpened = Environment.CpuUsage.TotalTime;
                    _writerOpened = WriterThread.CpuTime();
                    _statesOpened = WriterShares.Read();
                    return;
                }

                _latencies.Add((done - began) * 1000);
                if (done >= to)
                {
                    _closed = done;
                    _cpuClosed = Environment.CpuUsage.TotalTime;
                    _writerClosed = WriterThread.CpuTime();
                    _statesClosed = WriterShares.Read();
                }
            }
        }

        public (double Rate, double P50, double P99, double CpuMs, double WriterUs, double Busy, WriterShares Writer) Result()
        {
            if (_closed < 0 || _latencies.Count == 0)
            {
                throw new InvalidOperationException("no issuance completed inside the measured window");
            }

            var elapsed = _closed - _opened;
            var cpu = (_cpuClosed - _cpuOpened).TotalSeconds;
            var all = _latencies.Order().ToList();
            var writer = (_writerClosed - _writerOpened).TotalSeconds;
            return (all.Count / elapsed, all[all.Count / 2], all[(int)(all.Count * 0.99)], cpu * 1000 / all.Count, writer * 1_000_000 / all.Count, cpu / elapsed,
                WriterShares.Between(_statesOpened, _statesClosed, elapsed));
        }
    }

    /// <summary>
    /// The database writer's time over a window, in % of it (<see cref="WriterTime"/>): running a batch's statements
    /// (its turn among the database's writers included), committing it (the log written and flushed), checkpointing
    /// (the log copied into the database file), holding a batch back, idle (no write waiting). A writer that is never
    /// idle sets the pace of issuance.
    /// </summary>
    internal readonly record struct WriterShares(double Statements, double Commit, double Checkpoint, double Holding, double Idle)
    {
        public static double[] Read() => [.. Enum.GetValues<WriterState>().Select(WriterTime.Seconds)];

        public static WriterShares Between(double[] opened, double[] closed, double elapsed)
        {
            double Share(params WriterState[] states) => states.Sum(state => closed[(int)state] - opened[(int)state]) * 100 / elapsed;
            return new WriterShares(Share(WriterState.Turn, WriterState.Statements), Share(WriterState.Commit), Share(WriterState.Checkpoint), Share(WriterState.Holding), Share(WriterState.Idle));
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

    /// <summary>
    /// The CPU time of the issuance database's writer thread (the group commit's; every durable write of an issuance
    /// runs on it), read from the kernel's per-thread scheduler statistics. The thread is found by the name the CA
    /// gives it ("minica-sqlite-group-commit", SqliteGroupCommit); before it exists the time is zero.
    /// </summary>
    private static class WriterThread
    {
        // The kernel keeps the first 15 bytes of a thread's name.
        private const string Comm = "minica-sqlite-g";
        private static string? s_schedstat;

        public static TimeSpan CpuTime()
        {
            s_schedstat ??= Directory.GetDirectories("/proc/self/task")
                .Where(task => Read(Path.Combine(task, "comm"))?.TrimEnd() == Comm)
                .Select(task => Path.Combine(task, "schedstat"))
                .FirstOrDefault();

            // schedstat: nanoseconds on a CPU, nanoseconds waiting for one, time slices.
            return s_schedstat is not null && Read(s_schedstat) is { } stat
                ? TimeSpan.FromTicks(long.Parse(stat.Split(' ')[0], CultureInfo.InvariantCulture) / 100)
                : TimeSpan.Zero;
        }

        /// <summary>A file under /proc/self/task, or null when its thread ended since the directory was listed.</summary>
        private static string? Read(string path)
        {
            try
            {
                return File.ReadAllText(path);
            }
            catch (IOException)
            {
                return null;
            }
        }
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
