using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data;
using MiniCa.Data.Stores;
using MiniCa.Hosting;
using MiniCa.Tests.Shared;
using static MiniCa.Tests.Shared.LedgerWrites;
using MiniCa.TestSupport;
using Org.BouncyCastle.X509;

namespace MiniCa.Postgres.Tests;

/// <summary>The issuance cycle and revocation of issue 3 on PostgreSQL, with the checks the SQLite suite makes.</summary>
public sealed class PostgresIssuanceTests(PostgresCaFixture ca) : IClassFixture<PostgresCaFixture>
{
    private static byte[] Csr(string name, ECDsa key)
    {
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest();
    }

    private Task<IssuanceOutcome> SubmitAsync(string name, ECDsa key, CancellationToken cancellationToken = default) =>
        ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csr(name, key), Profile = "tls-server", Requester = "alice", Source = "test" }, cancellationToken);

    [Fact]
    public async Task Decide_TwoOfficersApproveAtOnce_EveryRequestIsIssuedOnceWithBothApprovals()
    {
        // On SQLite one writer at a time orders the decisions; on PostgreSQL two officers' approvals of a request
        // arrive in two sessions at once, and each must see the other's.
        var ids = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var pending = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csr($"two-{i}.example.com", key), Profile = TestPolicies.TwoOfficers, Requester = "alice", Source = "test" });
            Assert.Equal(RequestStatus.Pending, pending.Status);
            ids.Add(pending.RequestId);
        }

        var decisions = await Task.WhenAll(ids.SelectMany(id => new[] { "oscar", "olivia" }.Select(officer => Task.Run(() => ca.Issuance.DecideAsync(id, officer, true, "checked")))));

        Assert.Equal(20, decisions.Count(d => d.Status == RequestStatus.Issued));
        // The other decision of each request left it pending (its count of approvals still needed is read after
        // the decision, when the second may be in already).
        Assert.Equal(20, decisions.Count(d => d.Status == RequestStatus.Pending));
        var idList = string.Join(", ", ids);
        Assert.Equal("20", await ca.Server.QueryAsync(PostgresCaFixture.Database, $"SELECT count(*) FROM \"Requests\" WHERE \"Id\" IN ({idList}) AND \"Status\" = 'Issued'"));
        Assert.Equal("40", await ca.Server.QueryAsync(PostgresCaFixture.Database, $"SELECT count(*) FROM \"Approvals\" WHERE \"RequestId\" IN ({idList}) AND \"Decision\" = 'Approved'"));
        Assert.Equal("20", await ca.Server.QueryAsync(PostgresCaFixture.Database, $"SELECT count(*) FROM \"Certificates\" WHERE \"RequestId\" IN ({idList}) AND \"Status\" = 'Issued'"));
    }

    [Fact]
    public async Task Decide_WhileAnotherProcessHasTheWritersTurn_WaitsForIt()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pending = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csr("turn.example.com", key), Profile = TestPolicies.TwoOfficers, Requester = "alice", Source = "test" });
        Assert.Equal(RequestStatus.Pending, pending.Status);

        // Another session holds the writer's turn for three seconds, as another host's decision or revocation would.
        const string held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1298744161 AND objid = 3";
        var holder = await HoldAsync("SELECT pg_advisory_lock(1298744161, 3)", "writers-turn", seconds: 3);
        var decision = ca.Issuance.DecideAsync(pending.RequestId, "oscar", true, "checked");
        await Task.Delay(1000);
        Assert.False(decision.IsCompleted, "the decision went on while another process had the writer's turn");
        Assert.Equal("0", await ca.Server.QueryAsync(PostgresCaFixture.Database, $"SELECT count(*) FROM \"Approvals\" WHERE \"RequestId\" = {pending.RequestId}"));

        await holder;
        Assert.Equal(1, (await decision).ApprovalsNeeded);
        // Handed on: nobody holds the turn once the decision is recorded.
        Assert.Equal("0", await ca.Server.QueryAsync(PostgresCaFixture.Database, held));
    }

    [Fact]
    public async Task Submit_500Concurrently_Gives500DistinctSerials500RowsAndCertificatesOpenSslVerifies()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var outcomes = new ConcurrentBag<IssuanceOutcome>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 500), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, token) =>
            outcomes.Add(await SubmitAsync($"load-{i}.example.com", key, token)));

        Assert.Equal(500, outcomes.Count(o => o.Status == RequestStatus.Issued));
        var serials = outcomes.Select(o => o.SerialHex!).ToList();
        Assert.Equal(500, serials.Distinct().Count());
        Assert.Equal("500", await ca.Server.QueryAsync(PostgresCaFixture.Database,
            $"SELECT count(*) FROM \"Certificates\" c JOIN \"Requests\" r ON r.\"Id\" = c.\"RequestId\" WHERE c.\"Status\" = 'Issued' AND r.\"Status\" = 'Issued' AND c.\"Der\" IS NOT NULL AND c.\"SerialHex\" IN ({string.Join(", ", serials.Select(s => $"'{s}'"))})"));
        var issuerKey = ca.Issuing.GetPublicKey();
        var files = new List<string>();
        foreach (var outcome in outcomes)
        {
            var certificate = new X509CertificateParser().ReadCertificate(outcome.Certificate);
            certificate.Verify(issuerKey);
            Assert.Equal(outcome.SerialHex, certificate.SerialNumber.ToString(16));
            var file = Path.Combine(ca.WorkDirectory, $"load-{outcome.SerialHex}.pem");
            await File.WriteAllTextAsync(file, PemEncoding.WriteString("CERTIFICATE", outcome.Certificate!));
            files.Add(file);
        }

        var verify = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", Path.Combine(ca.CaDirectory, "root.pem"), "-untrusted", Path.Combine(ca.CaDirectory, "issuing.pem"), .. files]);
        Assert.True(verify.ExitCode == 0, verify.Combined);
        Assert.Equal(500, verify.StandardOutput.Split('\n').Count(l => l.EndsWith(": OK", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DatabaseRefusingAWrite_BeforeSigningNeverReachesTheHsm_AfterSigningLeavesTheAttemptRecorded()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var hsm = ca.Services.GetRequiredService<MiniCa.Hsm.HsmCluster>();
        async Task<CaException> RefusedAsync(string name, string constraint)
        {
            // A real refusal by the server: a constraint that only this write breaks (NOT VALID: old rows are not checked).
            await ca.Server.QueryAsync(PostgresCaFixture.Database, $"ALTER TABLE \"Certificates\" ADD CONSTRAINT fault CHECK ({constraint}) NOT VALID");
            try
            {
                return await Assert.ThrowsAsync<CaException>(() => SubmitAsync(name, key));
            }
            finally
            {
                await ca.Server.QueryAsync(PostgresCaFixture.Database, "ALTER TABLE \"Certificates\" DROP CONSTRAINT fault");
            }
        }

        // Before signing: the record of the certificate is refused, and the HSM is never asked.
        var operations = hsm.Operations;
        var before = await RefusedAsync("fault-before.example.com", "\"Status\" <> 'Signing'");
        Assert.Equal(CaErrorKind.StorageFailed, before.Kind);
        Assert.Contains("fault", before.Message, StringComparison.Ordinal);
        Assert.Equal(operations, hsm.Operations);
        Assert.Equal("0", await ca.Server.QueryAsync(PostgresCaFixture.Database, "SELECT count(*) FROM \"Certificates\" WHERE \"Subject\" = 'CN=fault-before.example.com'"));

        // After signing: the commit of the signed certificate is refused; the attempt stays recorded, failed, with
        // its TBS and without a certificate.
        var after = await RefusedAsync("fault-after.example.com", "\"Der\" IS NULL");
        Assert.Equal(CaErrorKind.StorageFailed, after.Kind);
        Assert.Equal("Failed|t|t|Failed", await ca.Server.QueryAsync(PostgresCaFixture.Database,
            "SELECT c.\"Status\", c.\"Der\" IS NULL, length(c.\"TbsDer\") > 0, r.\"Status\" FROM \"Certificates\" c JOIN \"Requests\" r ON r.\"Id\" = c.\"RequestId\" WHERE c.\"Subject\" = 'CN=fault-after.example.com'"));

        // The constraint gone, the same key is issued again.
        Assert.Equal(RequestStatus.Issued, (await SubmitAsync("fault-later.example.com", key)).Status);
    }

    [Fact]
    public async Task ServerRestarted_IssuanceRefusedWhileDown_ThenGoesOnWithoutRestartingTheCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var hsm = ca.Services.GetRequiredService<MiniCa.Hsm.HsmCluster>();
        // Issuances at once leave several connections in the pool, which the restart then ends.
        Assert.All(await Task.WhenAll(Enumerable.Range(0, 8).Select(i => SubmitAsync($"before-{i}.restart.example.com", key))), o => Assert.Equal(RequestStatus.Issued, o.Status));

        await ca.Server.StopAsync();
        try
        {
            var operations = hsm.Operations;
            var down = await Assert.ThrowsAsync<CaException>(() => SubmitAsync("down.restart.example.com", key));
            Assert.Equal(CaErrorKind.StorageFailed, down.Kind);
            Assert.Equal(operations, hsm.Operations);
        }
        finally
        {
            await ca.Server.StartAgainAsync();
        }

        // Back: issuance goes on at once, the CA not restarted; no request meets a connection the restart ended.
        var after = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => SubmitAsync($"after-{i}.restart.example.com", key)));
        Assert.All(after, o => Assert.Equal(RequestStatus.Issued, o.Status));
        Assert.Equal("0", await ca.Server.QueryAsync(PostgresCaFixture.Database, "SELECT count(*) FROM \"Certificates\" WHERE \"Subject\" = 'CN=down.restart.example.com'"));
    }

    [Fact]
    public async Task RecordingACertificateAndBlockingItsKey_WaitForTheKeysLock()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        var lockId = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(Convert.FromHexString(fingerprint[..16]));
        var first = await SubmitAsync("locked-1.example.com", key);

        async Task<T> WhileTheKeyIsLockedAsync<T>(Func<Task<T>> action, string tag)
        {
            // Another session holds the key's lock for three seconds (as a block of the key in another process would).
            var holder = await HoldAsync($"SELECT pg_advisory_xact_lock({lockId})", tag, seconds: 3);
            var started = action();
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(started.IsCompleted, "the CA went on without waiting for the key's lock");
            await holder;
            return await started;
        }

        var issued = await WhileTheKeyIsLockedAsync(() => SubmitAsync("locked-2.example.com", key), "locked-issue");
        Assert.Equal(RequestStatus.Issued, issued.Status);
        var revoked = await WhileTheKeyIsLockedAsync(() => ca.Revocation.RevokeAsync(first.SerialHex!, "keyCompromise", null, "officer-ann"), "locked-revoke");
        Assert.Equal("keyCompromise", revoked.RevocationReason);
        Assert.Equal(CertificateStatus.Revoked, (await ca.Reader.FindCertificateAsync(issued.SerialHex!))!.Status);

        // A certificate of another key does not wait for it.
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var holder = await HoldAsync($"SELECT pg_advisory_xact_lock({lockId})", "locked-other", seconds: 3);
        Assert.Equal(RequestStatus.Issued, (await SubmitAsync("unlocked.example.com", other)).Status);
        Assert.False(holder.IsCompleted, "the other key's certificate took as long as the lock was held");
        await holder;
    }

    [Fact]
    public async Task KeyCompromise_RaisedAfterASupersededRevocation_ReachesTheDeltaCrlWithItsSibling()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var reported = await SubmitAsync("raised-1.example.com", key);
        var sibling = await SubmitAsync("raised-2.example.com", key);
        await ca.Revocation.RevokeAsync(reported.SerialHex!, "superseded", null, "officer-ann");
        await ca.Revocation.RevokeAsync(sibling.SerialHex!, "cessationOfOperation", null, "officer-ann");
        // As if both were revoked yesterday, before the complete CRL that the delta is based on.
        var yesterday = DateTimeOffset.UtcNow.AddDays(-1);
        Assert.Equal("UPDATE 2", (await ca.Server.QueryAsync(PostgresCaFixture.Database,
            $"UPDATE \"Certificates\" SET \"RevokedAt\" = '{yesterday.ToString("O", CultureInfo.InvariantCulture)}', \"RevocationChangedAt\" = '{yesterday.ToString("O", CultureInfo.InvariantCulture)}' WHERE \"SerialHex\" IN ('{reported.SerialHex}', '{sibling.SerialHex}')")).Split('\n')[^1]);

        var options = MiniCaConfiguration.Load(["--config", ca.ConfigFile, "--Crl:DeltaIntervalMinutes=60"]).Options;
        using var crls = ActivatorUtilities.CreateInstance<CrlService>(ca.Services, options);
        await crls.GenerateAsync("issuing", "test");
        var raised = await ca.Revocation.RevokeAsync(reported.SerialHex!, "keyCompromise", null, "officer-ann");
        var delta = await crls.GenerateDeltaAsync("issuing", "test");

        Assert.Equal("keyCompromise", raised.RevocationReason);
        Assert.Equal(yesterday.ToUnixTimeSeconds(), raised.RevokedAt!.Value.ToUnixTimeSeconds());
        var parsed = new X509CrlParser().ReadCrl(delta.Der);
        foreach (var serial in new[] { reported.SerialHex!, sibling.SerialHex! })
        {
            var entry = parsed.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(serial, 16));
            Assert.NotNull(entry);
            Assert.Equal(1, Org.BouncyCastle.Asn1.DerEnumerated.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(
                entry.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.ReasonCode)!)).IntValueExact);
        }

        var deltaFile = Path.Combine(ca.WorkDirectory, "delta.crl");
        await File.WriteAllBytesAsync(deltaFile, delta.Der);
        var check = await ProcessRunner.RunAsync(openssl, ["crl", "-inform", "DER", "-in", deltaFile, "-CAfile", Path.Combine(ca.CaDirectory, "issuing.pem"), "-noout"]);
        Assert.Contains("verify OK", check.StandardError, StringComparison.Ordinal);

        // The key is blocked: a new request for it is refused and recorded, with nothing signed.
        var again = await SubmitAsync("raised-3.example.com", key);
        Assert.Equal(RequestStatus.Rejected, again.Status);
        Assert.Contains(again.Problems, p => p.Contains("reported compromised", StringComparison.Ordinal));
    }

    private IIssuanceLedger Ledger => ca.Services.GetRequiredService<IIssuanceLedger>();

    [Fact]
    public async Task SettleInterrupted_FailsTheRequestOfACertificateBeingSignedSinceBeforeTheCutOffOnly()
    {
        var serial = NewSerial();
        var (requestId, _) = await Ledger.RecordSigningAsync(Request("interrupted.batch.example.com"), null, Certificate(serial, "interrupted.batch.example.com"), Audit("certificate.signing"));

        Assert.DoesNotContain(serial, await Ledger.SettleInterruptedAsync(DateTimeOffset.UtcNow.AddMinutes(-10)));
        Assert.Equal(RequestStatus.Approved, (await ca.Reader.FindRequestAsync(requestId))!.Status);
        Assert.Contains(serial, await Ledger.SettleInterruptedAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
        var request = (await ca.Reader.FindRequestAsync(requestId))!;
        Assert.Equal(RequestStatus.Failed, request.Status);
        Assert.Contains(request.Problems, p => p.Contains(serial, StringComparison.Ordinal));
        Assert.Equal(CertificateStatus.Signing, (await ca.Reader.FindCertificateAsync(serial))!.Status);
        Assert.DoesNotContain(serial, await Ledger.SettleInterruptedAsync(DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task RecordSigning_ConcurrentWritesWithATakenSerialAndABlockedKey_OnlyThoseTwoFail()
    {
        // The writes share batches (one transaction each): the server's refusal of one (the taken serial) rolls its
        // batch back, which then runs write by write; a blocked key is the guard's answer, and the batch commits.
        var taken = NewSerial();
        await Ledger.RecordSigningAsync(Request("taken.batch.example.com"), null, Certificate(taken, "taken.batch.example.com"), Audit("certificate.signing"));
        var blockedKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        await ca.Services.GetRequiredService<IRevocationLedger>().BlockKeyAsync(
            new BlockedKey { PublicKeySha256 = blockedKey, Reason = "keyCompromise", Source = "report", BlockedAt = DateTimeOffset.UtcNow, BlockedBy = "officer-ann" },
            new AuditEntry("officer-ann", "key.blocked", $"key:{blockedKey}", "test"));
        var serials = Enumerable.Range(0, 60).Select(_ => NewSerial()).ToList();
        serials.Insert(30, taken);

        var writes = serials.Select((serial, i) => Task.Run(() => Ledger.RecordSigningAsync(
            Request($"b{i}.batch.example.com"), null, Certificate(serial, $"b{i}.batch.example.com", i == 45 ? blockedKey : null), Audit("certificate.signing")))).ToList();
        await Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(CaErrorKind.AlreadyExists, Assert.IsType<CaException>(writes[30].Exception!.InnerException).Kind);
        var blocked = Assert.IsType<CaException>(writes[45].Exception!.InnerException);
        Assert.Equal(CaErrorKind.PolicyViolation, blocked.Kind);
        Assert.Contains("reported compromised", blocked.Message, StringComparison.Ordinal);
        Assert.Equal(59, writes.Count(w => w.IsCompletedSuccessfully));
        Assert.Equal(59, writes.Where(w => w.IsCompletedSuccessfully).Select(w => w.Result.CertificateId).Distinct().Count());
        Assert.Equal("59", await ca.Server.QueryAsync(PostgresCaFixture.Database,
            "SELECT count(*) FROM \"Certificates\" c JOIN \"Requests\" r ON r.\"Id\" = c.\"RequestId\" WHERE c.\"Subject\" LIKE 'CN=b%.batch.example.com' AND c.\"Status\" = 'Signing' AND r.\"Status\" = 'Approved' AND length(c.\"TbsDer\") = 64"));
        // Neither refused write left a request, and no write of a batch that ran again was recorded twice.
        Assert.Equal("0", await ca.Server.QueryAsync(PostgresCaFixture.Database,
            "SELECT count(*) FROM \"Requests\" WHERE \"Identifiers\" IN ('dns:b30.batch.example.com', 'dns:b45.batch.example.com')"));
        Assert.Equal("59|59", await ca.Server.QueryAsync(PostgresCaFixture.Database,
            "SELECT count(*), count(DISTINCT \"Subject\") FROM \"AuditEvents\" WHERE \"Subject\" IN (" + string.Join(", ", serials.Where((_, i) => i is not (30 or 45)).Select(s => $"'certificate:{s}'")) + ")"));
    }

    [Fact]
    public Task RecordIssued_OneCertificateNotBeingSigned_FailsAloneAndChangesNothing() =>
        LedgerWrites.RecordIssued_OneCertificateNotBeingSigned_FailsAloneAndChangesNothing(Ledger, ca.Reader, "i.batch");

    private static Task<(long RequestId, long CertificateId)> WriteAsync(PostgresGroupCommit commit, string name, string? publicKeySha256 = null) =>
        commit.RunAsync(PostgresIssuanceWriter.RecordSigning(Request(name), Certificate(NewSerial(), name, publicKeySha256), Audit("certificate.signing"), DateTimeOffset.UtcNow, CancellationToken.None));

    /// <summary>
    /// Runs <paramref name="sql"/> (taking a lock) in a psql session's transaction, then sleeps there
    /// <paramref name="seconds"/>; returns the session's run once it is seen sleeping, so holding what it took.
    /// </summary>
    private async Task<Task<string>> HoldAsync(string sql, string tag, int seconds = 2)
    {
        var holder = ca.Server.QueryAsync(PostgresCaFixture.Database, $"BEGIN; {sql}; SELECT pg_sleep({seconds}) /* {tag} */; COMMIT;");
        while (await ca.Server.QueryAsync(PostgresCaFixture.Database, $"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep({seconds}) /* {tag} */%' AND pid <> pg_backend_pid()") == "0")
        {
            Assert.False(holder.IsCompleted, "the holding session ended before it was seen holding");
            await Task.Delay(50);
        }

        return holder;
    }

    [Fact]
    public async Task GroupCommit_WritesArrivingWhileABatchWaits_GoTogetherInTheNextBatch()
    {
        var contexts = ca.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        using var commit = new PostgresGroupCommit(contexts.CreateDbContext);
        var (requestId, certificateId) = await WriteAsync(commit, "first.grouped.example.com");
        var batches = commit.Batches;
        // Another session holds the request's row, so the batch recording its certificate waits in the server.
        var holder = await HoldAsync($"SELECT 1 FROM \"Requests\" WHERE \"Id\" = {requestId} FOR UPDATE", "grouped");
        var issued = commit.RunAsync(PostgresIssuanceWriter.RecordIssued(requestId, certificateId, [0x30, 0x00], Audit("certificate.issued"), DateTimeOffset.UtcNow, CancellationToken.None));
        await Task.Delay(500);
        Assert.False(issued.IsCompleted, "the write did not wait for the request's row");
        var rest = Enumerable.Range(0, 40).Select(i => WriteAsync(commit, $"g{i}.grouped.example.com")).ToList();
        await holder;
        Assert.True(await issued);
        var recorded = await Task.WhenAll(rest);

        // One batch for the waiting write, one for the forty that queued behind it.
        Assert.Equal(batches + 2, commit.Batches);
        Assert.Equal(40, recorded.Select(r => r.CertificateId).Distinct().Count());
        Assert.Equal("40", await ca.Server.QueryAsync(PostgresCaFixture.Database, "SELECT count(*) FROM \"Certificates\" WHERE \"Subject\" LIKE 'CN=g%.grouped.example.com' AND \"Status\" = 'Signing'"));
    }

    [Fact]
    public async Task GroupCommit_AKeysLockHeldElsewhere_HoldsUpOnlyThatKeysWrite()
    {
        var contexts = ca.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        using var commit = new PostgresGroupCommit(contexts.CreateDbContext);
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var lockId = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(Convert.FromHexString(key[..16]));
        // As a revocation or a block of that key in another process would. Held for 10 s: twenty writes took more
        // than 2 s once, on a machine busy building beside the suite.
        var holder = await HoldAsync($"SELECT pg_advisory_xact_lock({lockId})", "key-lock", seconds: 10);

        var locked = WriteAsync(commit, "locked.held.example.com", key);
        var others = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => WriteAsync(commit, $"o{i}.held.example.com")));
        Assert.Equal(20, others.Select(r => r.CertificateId).Distinct().Count());
        Assert.False(holder.IsCompleted, "the other keys' writes took as long as the lock was held");
        Assert.False(locked.IsCompleted, "the write went on without its key's lock");
        await holder;
        var (_, lockedId) = await locked;
        Assert.Equal("1", await ca.Server.QueryAsync(PostgresCaFixture.Database, $"SELECT count(*) FROM \"Certificates\" WHERE \"Id\" = {lockedId} AND \"PublicKeySha256\" = '{key}'"));
    }
}
