// MiniCa benchmarks. Rounds alternate baseline/candidate so machine noise hits both alike; medians are reported.
//
//   signer:    raw signatures per second through MiniCa's signer (session pool, retry wrapper, handle cache,
//              in-process hashing, r||s -> DER) beside a bare Pkcs11Interop C_Sign loop on the same key.
//   issuance:  CSR in -> committed certificate out through the issuance pipeline, beside the bare C_Sign rate of the
//              issuing key, for a P-256 and an RSA-3072 issuing CA, pinned to 1 and 2 cores; latency, peak memory.
//   issuance-postgres --cores N: one row of the above on a throw-away PostgreSQL server (run it under taskset).
//   ocsp:      OCSP requests/s and latency under wrk: MiniCa against cfssl ocspserve and openssl ocsp -multi 2.
//   crl:       a full CRL of 1,000,000 revocations, MiniCa against openssl ca -gencrl (time and peak memory).
//   acme:      complete ACME issuances per second with lego x4 in parallel, MiniCa against Pebble; server CPU/issuance.
//   portal:    the portal's list queries over 1,000,000 certificates and 100,000 pending requests (p50/p95 ms).
//
//   dotnet run -c Release --project tests/MiniCa.Benchmarks [-- --suite signer|issuance|cluster|all --seconds 1.5 --rounds 5]
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using MiniCa.Hsm;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

var seconds = ArgValue(args, "--seconds", 1.5);
var rounds = (int)ArgValue(args, "--rounds", 5);
var suiteIndex = Array.IndexOf(args, "--suite");
var suite = suiteIndex >= 0 && suiteIndex + 1 < args.Length ? args[suiteIndex + 1] : "all";
const string Module = "/usr/lib/softhsm/libsofthsm2.so";

// SoftHSM2 reads one configuration per process: the issuance suite runs in a child process of its own.
if (suite == "all")
{
    var self = Environment.ProcessPath!;
    var own = typeof(BareSigner).Assembly.Location;
    foreach (var part in new[] { "signer", "issuance", "cluster", "ocsp", "crl", "portal", "acme" })
    {
        using var child = Process.Start(new ProcessStartInfo(self, [own, "--suite", part, "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--rounds", rounds.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            return child.ExitCode;
        }

        Console.WriteLine();
    }

    return 0;
}

if (suite == "issuance")
{
    return await IssuanceBenchmark.RunAsync(seconds, rounds);
}

if (suite == "issuance-pinned")
{
    return await IssuanceBenchmark.RunPinnedAsync((int)ArgValue(args, "--cores", 1), seconds, rounds);
}

if (suite == "issuance-postgres")
{
    return await IssuanceBenchmark.RunPinnedAsync((int)ArgValue(args, "--cores", 1), seconds, rounds, postgres: true);
}

if (suite == "cluster")
{
    return await ClusterBenchmark.RunAsync(seconds, rounds);
}

if (suite == "ocsp")
{
    return await OcspBenchmark.RunAsync(Math.Max(seconds, 10));
}

if (suite == "crl")
{
    return await CrlBenchmark.RunAsync((int)ArgValue(args, "--revoked", 1_000_000));
}

if (suite == "acme")
{
    return await AcmeBenchmark.RunAsync((int)ArgValue(args, "--per-client", 10), rounds: (int)ArgValue(args, "--rounds", 3));
}

if (suite == "portal")
{
    return await PortalBenchmark.RunAsync((int)ArgValue(args, "--certificates", 1_000_000), (int)ArgValue(args, "--pending", 100_000), (int)ArgValue(args, "--runs", 40), Array.IndexOf(args, "--keep") is var k and >= 0 ? args[k + 1] : null);
}

if (suite == "crl-generate")
{
    return await CrlBenchmark.GenerateAsync(args[Array.IndexOf(args, "--config") + 1]);
}

var store = Path.Combine(Path.GetTempPath(), "minica-bench-" + Guid.NewGuid().ToString("N"));
try
{
    var settings = EmbeddedSoftHsm.Provision(store, Module, maxSessions: 4);
    // The path the CA signs through: the cluster's key store, here with the one embedded member.
    using var cluster = new HsmCluster([settings], new HsmClusterSettings());
    var member = cluster.Members[0].Connection;
    var keys = new ClusterKeyStore(cluster);
    var slot = HsmMember.FindToken(member.Library, settings).Slot;
    var data = RandomNumberGenerator.GetBytes(512); // about the size of a TBSCertificate

    Console.WriteLine($"MiniCa signer benchmark (through the HSM cluster's key store, one member): SoftHSM2 {Module}, {Environment.ProcessorCount} cores, {rounds} alternating rounds of {seconds:0.0} s, medians");
    Console.WriteLine();
    Console.WriteLine("| Key | Threads | Bare C_Sign (sig/s) | MiniCa signer (sig/s) | Signer overhead |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    var worst = 0.0;
    foreach (var algorithm in new[] { KeyAlgorithm.EcP256, KeyAlgorithm.EcP384, KeyAlgorithm.Rsa3072 })
    {
        var signer = keys.GenerateKey("bench-" + algorithm.Name.ToLowerInvariant(), algorithm);
        var scheme = SignatureAlgorithms.DefaultFor(algorithm);
        foreach (var threads in new[] { 1, 2 })
        {
            var bare = new List<double>();
            var wrapped = new List<double>();
            Measure(threads, 0.3, () => BareLoop(slot, signer.KeyName, scheme, data)); // warm-up
            Measure(threads, 0.3, () => () => signer.Sign(scheme, data));
            for (var round = 0; round < rounds; round++)
            {
                bare.Add(Measure(threads, seconds, () => BareLoop(slot, signer.KeyName, scheme, data)));
                wrapped.Add(Measure(threads, seconds, () => () => signer.Sign(scheme, data)));
            }

            var b = Median(bare);
            var w = Median(wrapped);
            var overhead = (b - w) / b * 100;
            worst = Math.Max(worst, overhead);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {algorithm.Name} | {threads} | {b:0} | {w:0} | {overhead:+0.0;-0.0;0.0}% |"));
        }
    }

    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Worst overhead {worst:0.0}% (target <= 10%): {(worst <= 10 ? "met" : "NOT met")}"));
    return worst <= 10 ? 0 : 1;
}
finally
{
    Directory.Delete(store, recursive: true);
}

// Runs `threads` workers, each with its own state from `makeWorker`, for `seconds`; returns operations per second.
internal static partial class Program
{
internal static double Measure(int threads, double seconds, Func<Action> makeWorker)
{
    var workers = Enumerable.Range(0, threads).Select(_ => makeWorker()).ToArray();
    var counts = new long[threads];
    using var go = new Barrier(threads + 1);
    var stopAt = 0L;
    var tasks = workers.Select((work, i) => Task.Factory.StartNew(() =>
    {
        go.SignalAndWait();
        long n = 0;
        while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
        {
            work();
            n++;
        }

        counts[i] = n;
    }, TaskCreationOptions.LongRunning)).ToArray();
    var start = Stopwatch.GetTimestamp();
    Volatile.Write(ref stopAt, start + (long)(seconds * Stopwatch.Frequency));
    go.SignalAndWait();
    Task.WaitAll(tasks);
    var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
    foreach (var worker in workers)
    {
        (worker.Target as IDisposable)?.Dispose();
    }

    return counts.Sum() / elapsed;
}

// The baseline: one session per thread, the key handle found once, the digest precomputed, one ISession.Sign per
// signature — what a hand-written loop over Pkcs11Interop does with no pool, retry, DER conversion or hashing.
internal static Action BareLoop(ISlot slot, string label, SignatureAlgorithm scheme, byte[] data)
{
    var bare = new BareSigner(slot, label, scheme, data);
    return bare.SignOnce;
}

internal static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

internal static double ArgValue(string[] args, string name, double fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
}

internal sealed class BareSigner : IDisposable
{
    private readonly ISession _session;
    private readonly IObjectHandle _key;
    private readonly IMechanism _mechanism;
    private readonly byte[] _input;

    public BareSigner(ISlot slot, string label, SignatureAlgorithm scheme, byte[] data)
    {
        _session = slot.OpenSession(SessionType.ReadOnly);
        var f = Pkcs11Modules.Factories;
        _key = _session.FindAllObjects([
            f.ObjectAttributeFactory.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
            f.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label),
        ]).Single();
        (_mechanism, _input) = scheme switch
        {
            SignatureAlgorithm.EcdsaSha256 => (f.MechanismFactory.Create(CKM.CKM_ECDSA), SHA256.HashData(data)),
            SignatureAlgorithm.EcdsaSha384 => (f.MechanismFactory.Create(CKM.CKM_ECDSA), SHA384.HashData(data)),
            _ => (f.MechanismFactory.Create(CKM.CKM_SHA256_RSA_PKCS), data),
        };
    }

    public void SignOnce() => _session.Sign(_mechanism, _key, _input);

    public void Dispose()
    {
        _mechanism.Dispose();
        _session.CloseSession();
    }
}
