using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Issuance;
using MiniCa.Core.Ledger;
using MiniCa.Core.Linting;
using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.Core.Serials;
using MiniCa.Core.Signing;
using MiniCa.Data;
using MiniCa.Data.Stores;
using MiniCa.TestSupport;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// The issuance database's disk fills up under a running CA: a real file system with no byte left (a small tmpfs),
/// the real SQLite group commit and the real HSM. The CA's database is copied onto that file system, and the
/// issuance pipeline is the CA's own with only its ledger pointed at the copy.
/// </summary>
[Collection(IssuanceCollection.Name)]
public sealed class DiskFullTests(IssuanceFixture ca)
{
    [Fact]
    public async Task DiskFull_IssuanceRefusedWithTheReason_NoSignatureWithoutItsRow_FreedSpaceIssuesAgain()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        await using var disk = await SmallFileSystem.MountAsync(64);
        var database = disk.Combine("minica.db");
        await using (var source = new SqliteConnection($"Data Source={Path.Combine(ca.WorkDirectory, "data", "minica.db")}"))
        {
            await source.OpenAsync();
            await using var copy = source.CreateCommand();
            copy.CommandText = "VACUUM INTO $file";
            copy.Parameters.AddWithValue("$file", database);
            await copy.ExecuteNonQueryAsync();
        }

        await Scalar(database, "PRAGMA journal_mode=WAL");
        var contexts = new PooledDbContextFactory<MiniCaDbContext>(new DbContextOptionsBuilder<MiniCaDbContext>()
            .UseSqlite($"Data Source={database}")
            .UseModel(MiniCa.Data.CompiledModel.MiniCaDbContextModel.Instance)
            .AddInterceptors(new SqlitePragmas())
            .Options);
        using var gate = new WriteGate();
        using var ledger = new EfIssuanceLedger(contexts, gate, TimeProvider.System);
        var sp = ca.Services;
        using var logs = new LogRecorder();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        using var service = new IssuanceService(
            sp.GetRequiredService<ProfileCatalog>(), BlockedKeyLists.None, sp.GetRequiredService<IAuthorityReader>(), sp.GetRequiredService<IKeyManager>(),
            ledger, ledger, sp.GetRequiredService<ISerialNumberGenerator>(), sp.GetRequiredService<CertificateLinter>(),
            TimeProvider.System, sp.GetRequiredService<CaOptions>(), loggers.CreateLogger<IssuanceService>());
        var revocation = new RevocationService(new EfRevocationLedger(contexts, gate, TimeProvider.System), ledger,
            sp.GetRequiredService<ProfileCatalog>(), TimeProvider.System, loggers.CreateLogger<RevocationService>());

        var before = await service.SubmitAsync(Submission("before.full.example.com"));
        Assert.Equal(RequestStatus.Issued, before.Status);

        disk.Fill();
        var signaturesBefore = ca.Hsm.Operations;
        var rowsBefore = (await ledger.CountCertificatesAsync()).Values.Sum();

        // The write-ahead log may still have room for a few commits in pages it already holds; the first write that
        // needs one more page is refused.
        var issued = new List<IssuanceOutcome>();
        CaException? refused = null;
        for (var i = 0; i < 500 && refused is null; i++)
        {
            try
            {
                issued.Add(await service.SubmitAsync(Submission($"full-{i}.example.com")));
            }
            catch (CaException ex)
            {
                refused = ex;
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(CaErrorKind.StorageFailed, refused.Kind);
        Assert.Contains("disk is full", refused.Message, StringComparison.Ordinal);
        Assert.All(issued, outcome => Assert.Equal(RequestStatus.Issued, outcome.Status));

        // A revocation on the full disk is refused with the same reason, and changes nothing.
        var notRevoked = await Assert.ThrowsAsync<CaException>(() => revocation.RevokeAsync(before.SerialHex!, "keyCompromise", null, "officer-disk"));
        Assert.Equal(CaErrorKind.StorageFailed, notRevoked.Kind);
        Assert.Contains("disk is full", notRevoked.Message, StringComparison.Ordinal);

        // Each refusal is logged once with the database's reason (the API's 503 says only to ask the operators).
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("was not recorded, so not signed", StringComparison.Ordinal) && e.Message.Contains("disk is full", StringComparison.Ordinal));
        Assert.Single(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains($"The revocation of certificate {before.SerialHex} by officer-disk was not recorded", StringComparison.Ordinal) && e.Message.Contains("disk is full", StringComparison.Ordinal));

        // No signature without its row: every certificate the HSM signed meanwhile has one (written before it was
        // signed), whether its issuance completed or not.
        disk.Free();
        var rowsAfter = (await ledger.CountCertificatesAsync()).Values.Sum();
        Assert.Equal(ca.Hsm.Operations - signaturesBefore, rowsAfter - rowsBefore);
        foreach (var outcome in issued.Append(before))
        {
            var row = await ledger.FindCertificateAsync(outcome.SerialHex!);
            Assert.Equal(CertificateStatus.Issued, row!.Status);
            Assert.Equal(outcome.Certificate, row.Der);
        }

        // With space again, the same CA (same writer, same connection) issues, and the file is sound.
        var after = await service.SubmitAsync(Submission("after.full.example.com"));
        Assert.True(after.Status == RequestStatus.Issued, string.Join("; ", after.Problems));
        var certificate = Path.Combine(ca.WorkDirectory, "after-full.pem");
        File.WriteAllText(certificate, CertificateFormats.ToPem(after.Certificate!));
        var verify = await ProcessRunner.RunAsync(openssl, [
            "verify", "-x509_strict", "-purpose", "sslserver",
            "-CAfile", Path.Combine(ca.CaDirectory, "root.pem"), "-untrusted", Path.Combine(ca.CaDirectory, "issuing.pem"), certificate]);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        Assert.Equal(CertificateStatus.Revoked, (await revocation.RevokeAsync(before.SerialHex!, "keyCompromise", null, "officer-disk")).Status);
        Assert.Equal("ok", await Scalar(database, "PRAGMA integrity_check"));
        SqliteConnection.ClearAllPools();
    }

    private static IssuanceSubmission Submission(string name) =>
        new() { Csr = Csrs.Dns(name), Profile = "tls-server", Requester = "disk-full", Source = "test" };

    private static async Task<string> Scalar(string database, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }
}
