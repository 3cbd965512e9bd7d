using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Ledger;
using MiniCa.Data;
using MiniCa.Data.Queries;

/// <summary>
/// The portal's and the API's list queries over a large issuance database: 1,000,000 certificates and 100,000
/// pending requests in SQLite (the embedded default), each page measured as the server-side time of the query
/// service call the page makes (p50/p95 over repeated runs). Target: every page &lt; 100 ms.
/// </summary>
internal static class PortalBenchmark
{
    private static readonly string[] Profiles = ["tls-server", "tls-client", "email", "code-signing", "two-officers"];

    public static async Task<int> RunAsync(int certificates, int pending, int runs, string? keep)
    {
        // --keep DIR keeps the seeded database there and reuses it on the next run (for query-plan work).
        var directory = keep ?? Path.Combine(Path.GetTempPath(), "minica-portal-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var database = Path.Combine(directory, "minica.db");
        var seeded = File.Exists(database);
        var connectionString = $"Data Source={database}";
        try
        {
            var services = new ServiceCollection();
            services.AddPooledDbContextFactory<MiniCaDbContext>(db => db.UseSqlite(connectionString).AddInterceptors(new SqlitePragmas()));
            await using var provider = services.BuildServiceProvider();
            var contexts = provider.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
            await using (var db = await contexts.CreateDbContextAsync())
            {
                await db.Database.MigrateAsync();
            }

            var now = DateTimeOffset.UtcNow;
            var seed = Stopwatch.StartNew();
            if (!seeded)
            {
                Seed(connectionString, certificates, pending, now);
            }

            // The seed writes no name index rows: the start-up backfill fills them, as it does for an older database.
            var backfill = Stopwatch.StartNew();
            var indexed = await SearchIndex.BackfillAsync(contexts);
            if (indexed > 0)
            {
                Console.WriteLine($"Name index backfill: {indexed:N0} requests in {backfill.Elapsed.TotalSeconds:0.0} s");
            }

            Console.WriteLine($"MiniCa portal query benchmark: SQLite, {certificates:N0} certificates, {pending:N0} pending requests (seeded in {seed.Elapsed.TotalSeconds:0} s, {new FileInfo(database).Length / 1024 / 1024:N0} MiB); {runs} runs per query after 3 warm-up runs; server-side time of the query the page makes");
            Console.WriteLine();

            var queries = new PortalQueries(contexts);
            var scenarios = new (string Name, Func<Task<int>> Run)[]
            {
                ("Approval queue, first page (pending, oldest first)", async () => (await queries.RequestsAsync(new RequestQuery { Status = RequestStatus.Pending, OldestFirst = true, PageSize = 25 })).Total),
                ("Approval queue, page 2,000", async () => (await queries.RequestsAsync(new RequestQuery { Status = RequestStatus.Pending, OldestFirst = true, Page = 2000, PageSize = 25 })).Total),
                ("Approval queue, filtered by profile", async () => (await queries.RequestsAsync(new RequestQuery { Status = RequestStatus.Pending, Profile = "two-officers", OldestFirst = true, PageSize = 25 })).Total),
                ("Approval queue, text search", async () => (await queries.RequestsAsync(new RequestQuery { Status = RequestStatus.Pending, Text = "pending-4242.", OldestFirst = true, PageSize = 25 })).Total),
                ("My requests (one requester)", async () => (await queries.RequestsAsync(new RequestQuery { Requester = "user17", PageSize = 25 })).Total),
                ("Certificates, first page (newest)", async () => (await queries.CertificatesAsync(new CertificateQuery { PageSize = 25 })).Total),
                ("Certificates, page 10,000", async () => (await queries.CertificatesAsync(new CertificateQuery { Page = 10_000, PageSize = 25 })).Total),
                ("Certificates, serial prefix", async () => (await queries.CertificatesAsync(new CertificateQuery { Serial = "7f3a", PageSize = 25 })).Total),
                ("Certificates, domain search (1 of 100 domains)", async () => (await queries.CertificatesAsync(new CertificateQuery { Text = "svc42.example.com", PageSize = 25 })).Total),
                ("Certificates, name search", async () => (await queries.CertificatesAsync(new CertificateQuery { Text = "host123456.", PageSize = 25 })).Total),
                ("Certificates, profile + revoked", async () => (await queries.CertificatesAsync(new CertificateQuery { Profile = "tls-server", Status = CertificateStatus.Revoked, PageSize = 25 })).Total),
                ("Certificates, expiring within 30 days", async () => (await queries.CertificatesAsync(new CertificateQuery { Status = CertificateStatus.Issued, ExpiresBefore = now.AddDays(30), PageSize = 25 })).Total),
                ("Certificates, one requester's", async () => (await queries.CertificatesAsync(new CertificateQuery { Owner = "user17", PageSize = 25 })).Total),
                ("Dashboard counts", async () => (await queries.CountsAsync(now)).Issued),
                ("Dashboard chart (30 days)", async () => (await queries.IssuedPerDayAsync(now)).Sum(d => d.Count)),
            };

            Console.WriteLine("| Page (query) | Matches | p50 (ms) | p95 (ms) | < 100 ms |");
            Console.WriteLine("|---|---:|---:|---:|---|");
            var failed = 0;
            foreach (var (name, run) in scenarios)
            {
                var matches = 0;
                for (var i = 0; i < 3; i++)
                {
                    matches = await run();
                }

                var times = new List<double>(runs);
                for (var i = 0; i < runs; i++)
                {
                    var watch = Stopwatch.StartNew();
                    await run();
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }

                times.Sort();
                var p50 = times[times.Count / 2];
                var p95 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * 0.95) - 1)];
                var ok = p95 < 100;
                failed += ok ? 0 : 1;
                Console.WriteLine($"| {name} | {matches:N0} | {p50:0.0} | {p95:0.0} | {(ok ? "yes" : "NO")} |");
            }

            Console.WriteLine();
            Console.WriteLine(failed == 0 ? "Every page under 100 ms at p95." : $"{failed} page(s) at or over 100 ms at p95.");
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (keep is null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Bulk rows straight through ADO in large transactions (seeding only; not how MiniCa writes).</summary>
    private static void Seed(string connectionString, int certificates, int pending, DateTimeOffset now)
    {
        var time = new DateTimeOffsetToBinaryConverter();
        long T(DateTimeOffset value) => (long)time.ConvertToProvider(value)!;
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;";
            pragma.ExecuteNonQuery();
        }

        var der = RandomNumberGenerator.GetBytes(700);
        var tbs = RandomNumberGenerator.GetBytes(16);
        var random = new Random(42);
        const int Batch = 50_000;
        for (var start = 0; start < certificates + pending; start += Batch)
        {
            using var transaction = connection.BeginTransaction();
            using var request = connection.CreateCommand();
            request.Transaction = transaction;
            request.CommandText = "INSERT INTO Requests (Profile, Requester, Source, Status, Subject, Identifiers, KeyDescription, Problems, RequiredApprovals, CreatedAt, UpdatedAt) VALUES ($p, $r, 'api', $s, $subject, $ids, 'EC P-256', '', $n, $at, $at) RETURNING Id";
            var p = request.Parameters.Add("$p", SqliteType.Text);
            var r = request.Parameters.Add("$r", SqliteType.Text);
            var s = request.Parameters.Add("$s", SqliteType.Text);
            var subject = request.Parameters.Add("$subject", SqliteType.Text);
            var ids = request.Parameters.Add("$ids", SqliteType.Text);
            var n = request.Parameters.Add("$n", SqliteType.Integer);
            var at = request.Parameters.Add("$at", SqliteType.Integer);
            using var certificate = connection.CreateCommand();
            certificate.Transaction = transaction;
            certificate.CommandText = "INSERT INTO Certificates (SerialHex, IssuerName, Subject, Identifiers, Profile, Status, NotBefore, NotAfter, TbsDer, Der, RequestId, CreatedAt, IssuedAt, RevokedAt, RevocationReason) VALUES ($serial, 'issuing', $subject, $ids, $p, $s, $nb, $na, $tbs, $der, $rid, $at, $at, $rev, $reason)";
            var serial = certificate.Parameters.Add("$serial", SqliteType.Text);
            var cSubject = certificate.Parameters.Add("$subject", SqliteType.Text);
            var cIds = certificate.Parameters.Add("$ids", SqliteType.Text);
            var cp = certificate.Parameters.Add("$p", SqliteType.Text);
            var cs = certificate.Parameters.Add("$s", SqliteType.Text);
            var nb = certificate.Parameters.Add("$nb", SqliteType.Integer);
            var na = certificate.Parameters.Add("$na", SqliteType.Integer);
            certificate.Parameters.AddWithValue("$tbs", tbs);
            certificate.Parameters.AddWithValue("$der", der);
            var rid = certificate.Parameters.Add("$rid", SqliteType.Integer);
            var cat = certificate.Parameters.Add("$at", SqliteType.Integer);
            var rev = certificate.Parameters.Add("$rev", SqliteType.Integer);
            var reason = certificate.Parameters.Add("$reason", SqliteType.Text);
            for (var i = start; i < Math.Min(start + Batch, certificates + pending); i++)
            {
                var isPending = i >= certificates;
                var name = isPending ? $"pending-{i - certificates}.svc{i % 100}.example.com" : $"host{i}.svc{i % 100}.example.com";
                var issued = now.AddSeconds(-random.Next(0, 365 * 86400));
                var profile = Profiles[i % Profiles.Length];
                p.Value = profile;
                r.Value = "user" + (i % 500).ToString(CultureInfo.InvariantCulture);
                s.Value = isPending ? "Pending" : "Issued";
                subject.Value = "CN=" + name;
                ids.Value = "dns:" + name;
                n.Value = isPending ? 2 : 0;
                at.Value = T(issued);
                var requestId = (long)request.ExecuteScalar()!;
                if (isPending)
                {
                    continue;
                }

                var revoked = i % 20 == 0;
                serial.Value = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                cSubject.Value = "CN=" + name;
                cIds.Value = "dns:" + name;
                cp.Value = profile;
                cs.Value = revoked ? "Revoked" : "Issued";
                nb.Value = T(issued.AddMinutes(-5));
                na.Value = T(issued.AddDays(365));
                rid.Value = requestId;
                cat.Value = T(issued);
                rev.Value = revoked ? T(issued.AddDays(1)) : DBNull.Value;
                reason.Value = revoked ? "superseded" : DBNull.Value;
                certificate.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        using var analyze = connection.CreateCommand();
        analyze.CommandText = "PRAGMA journal_mode=DELETE; ANALYZE;";
        analyze.ExecuteNonQuery();
    }
}
