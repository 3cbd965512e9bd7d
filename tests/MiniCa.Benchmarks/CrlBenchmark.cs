using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Revocation;
using MiniCa.Hosting;

/// <summary>
/// A full CRL of 1,000,000 revoked certificates: MiniCa (streamed from the database into DER, signed in the HSM)
/// against <c>openssl ca -gencrl</c> over the same number of revocations. Each generator runs in its own process
/// under /usr/bin/time, so the peak memory is the generator's alone.
/// </summary>
internal static class CrlBenchmark
{
    public static async Task<int> RunAsync(int count)
    {
        var directory = Path.Combine(Path.GetTempPath(), "minica-bench-crl-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var config = Path.Combine(directory, "ca.config.json");
            await File.WriteAllTextAsync(config, $$"""{ "DataDirectory": "data", "PoliciesDirectory": "{{Path.Combine(MiniCa.TestSupport.RepositoryPaths.Root, "policies")}}" }""");
            await using (var provider = Build(config))
            {
                await provider.GetRequiredService<CaBootstrapper>().InitializeAsync();
            }

            var revokedAt = DateTimeOffset.UtcNow.AddDays(-1);
            var serials = Enumerable.Range(0, count).Select(_ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)).TrimStart('0')).ToList();
            var fill = Stopwatch.StartNew();
            Fill(Path.Combine(directory, "data", "minica.db"), serials, revokedAt);
            Console.WriteLine($"MiniCa CRL benchmark: {count:N0} revoked certificates (keyCompromise), P-256 issuing key; database filled in {fill.Elapsed.TotalSeconds:0.0} s.");

            var self = typeof(CrlBenchmark).Assembly.Location;
            var miniCa = await TimedAsync(directory, "dotnet", [self, "--suite", "crl-generate", "--config", config]);
            var crlFile = Path.Combine(directory, "data", "crl", "issuing.crl");

            var openssl = await OpenSslAsync(directory, serials, revokedAt);
            Console.WriteLine();
            Console.WriteLine("| Generator | Wall time (s) | Peak memory (MiB) | CRL size (MB, DER) |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| MiniCa (generation inside the process: {miniCa.Inner}) | {miniCa.Seconds:0.00} | {miniCa.PeakMiB:0} | {new FileInfo(crlFile).Length / 1e6:0.0} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| openssl ca -gencrl | {openssl.Seconds:0.00} | {openssl.PeakMiB:0} | {openssl.SizeMb:0.0} |"));
            var timeRatio = miniCa.Seconds / openssl.Seconds;
            var memoryRatio = miniCa.PeakMiB / openssl.PeakMiB;
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Time {timeRatio:0.00} x OpenSSL (target <= 0.30: {(timeRatio <= 0.3 ? "met" : "NOT met")}); peak memory {memoryRatio:0.00} x OpenSSL (target <= 0.50: {(memoryRatio <= 0.5 ? "met" : "NOT met")})."));
            return timeRatio <= 0.3 && memoryRatio <= 0.5 ? 0 : 1;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Environment.GetEnvironmentVariable("MINICA_BENCH_KEEP") is null)
            {
                Directory.Delete(directory, recursive: true);
            }
            else
            {
                Console.WriteLine("kept " + directory);
            }
        }
    }

    /// <summary>The child process: generate the issuing CA's CRL once and print how long it took.</summary>
    public static async Task<int> GenerateAsync(string config)
    {
        await using var provider = Build(config);
        var crls = provider.GetRequiredService<CrlService>();
        var watch = Stopwatch.StartNew();
        var crl = await crls.GenerateAsync("issuing", "benchmark");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"INNER {watch.Elapsed.TotalSeconds:0.00} s for {crl.Entries:N0} entries"));
        return 0;
    }

    private static ServiceProvider Build(string config)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddMiniCa(MiniCaConfiguration.Load(["--config", config]));
        return services.BuildServiceProvider();
    }

    /// <summary>Inserts one request and one revoked certificate row per serial, in one transaction.</summary>
    private static void Fill(string database, List<string> serials, DateTimeOffset revokedAt)
    {
        var time = new DateTimeOffsetToBinaryConverter();
        long Stamp(DateTimeOffset value) => (long)time.ConvertToProvider(value)!;
        using var connection = new SqliteConnection($"Data Source={database}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var request = connection.CreateCommand();
        request.Transaction = transaction;
        request.CommandText = "INSERT INTO Requests (Profile, Requester, Source, Status, Subject, Identifiers, KeyDescription, Problems, RequiredApprovals, CreatedAt, UpdatedAt) " +
                              "VALUES ('tls-server', 'bench', 'bench', 'Issued', 'CN=x', 'dns:x', 'EC P-256', '', 0, $t, $t) RETURNING Id";
        var requestTime = request.Parameters.Add("$t", SqliteType.Integer);
        using var certificate = connection.CreateCommand();
        certificate.Transaction = transaction;
        certificate.CommandText = "INSERT INTO Certificates (SerialHex, IssuerName, Subject, Identifiers, Profile, Status, NotBefore, NotAfter, TbsDer, RequestId, CreatedAt, RevokedAt, RevocationReason) " +
                                  "VALUES ($s, 'issuing', 'CN=x', 'dns:x', 'tls-server', 'Revoked', $t, $a, X'00', $r, $t, $v, 'keyCompromise')";
        var serial = certificate.Parameters.Add("$s", SqliteType.Text);
        var created = certificate.Parameters.Add("$t", SqliteType.Integer);
        var notAfter = certificate.Parameters.Add("$a", SqliteType.Integer);
        var requestId = certificate.Parameters.Add("$r", SqliteType.Integer);
        var revoked = certificate.Parameters.Add("$v", SqliteType.Integer);
        requestTime.Value = created.Value = Stamp(revokedAt.AddDays(-10));
        notAfter.Value = Stamp(revokedAt.AddDays(80));
        revoked.Value = Stamp(revokedAt);
        foreach (var value in serials)
        {
            requestId.Value = request.ExecuteScalar();
            serial.Value = value;
            certificate.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static async Task<(double Seconds, double PeakMiB, double SizeMb)> OpenSslAsync(string directory, List<string> serials, DateTimeOffset revokedAt)
    {
        var ca = Path.Combine(directory, "openssl-ca");
        Directory.CreateDirectory(ca);
        await Run(ca, "openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=OpenSSL Bench CA", "-days", "30"]);
        var index = new StringBuilder(serials.Count * 80);
        var expiry = revokedAt.AddDays(80).UtcDateTime.ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture);
        var revocation = revokedAt.UtcDateTime.ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture);
        foreach (var serial in serials)
        {
            index.Append("R\t").Append(expiry).Append('\t').Append(revocation).Append(",keyCompromise\t")
                .Append(serial.Length % 2 == 1 ? "0" + serial.ToUpperInvariant() : serial.ToUpperInvariant()).Append("\tunknown\t/CN=x\n");
        }

        await File.WriteAllTextAsync(Path.Combine(ca, "index.txt"), index.ToString());
        await File.WriteAllTextAsync(Path.Combine(ca, "crlnumber"), "01\n");
        await File.WriteAllTextAsync(Path.Combine(ca, "ca.cnf"), """
            [ ca ]
            default_ca = bench
            [ bench ]
            dir = .
            database = index.txt
            crlnumber = crlnumber
            default_md = sha256
            default_crl_days = 1
            crl_extensions = crl_ext
            [ crl_ext ]
            authorityKeyIdentifier = keyid:always
            """);
        // openssl ca writes PEM only; the DER size is taken afterwards, outside the timing.
        var result = await TimedAsync(ca, "openssl", ["ca", "-gencrl", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl.pem"]);
        await Run(ca, "openssl", ["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"]);
        return (result.Seconds, result.PeakMiB, new FileInfo(Path.Combine(ca, "crl.der")).Length / 1e6);
    }

    private static async Task<(double Seconds, double PeakMiB, string Inner)> TimedAsync(string directory, string program, string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/time", ["-f", "TIME %e %M", program, .. args])
        {
            WorkingDirectory = directory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = stderr.Split('\n').Last(l => l.StartsWith("TIME ", StringComparison.Ordinal)).Split(' ');
        var inner = (await stdout).Split('\n').FirstOrDefault(l => l.StartsWith("INNER ", StringComparison.Ordinal))?["INNER ".Length..] ?? "-";
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {stderr}");
        }

        return (double.Parse(line[1], CultureInfo.InvariantCulture), double.Parse(line[2], CultureInfo.InvariantCulture) / 1024, inner);
    }

    private static async Task Run(string directory, string program, string[] args)
    {
        var result = await MiniCa.TestSupport.ProcessRunner.RunAsync(program, args, workingDirectory: directory);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {result.Combined}");
        }
    }
}
