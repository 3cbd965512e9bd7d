using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Ocsp;
using MiniCa.Core.Ledger;
using MiniCa.Core.Revocation;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Ocsp;

namespace MiniCa.Issuance.Tests;

/// <summary>OCSP while the issuance database hangs, as across a network partition (each look waits, then fails).</summary>
[Collection(IssuanceCollection.Name)]
public sealed class OcspOutageTests(IssuanceFixture ca)
{
    /// <summary>The real ledger, whose revocation look-ups hang for a while and then fail while <see cref="Hang"/> is set.</summary>
    private sealed class HangingLedger(IRevocationLedger inner) : IRevocationLedger
    {
        private int _looks;

        public TimeSpan? Hang { get; set; }

        public int Looks => Volatile.Read(ref _looks);

        public async Task<IReadOnlyList<(string SerialHex, DateTimeOffset ChangedAt)>> RevokedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _looks);
            if (Hang is { } hang)
            {
                await Task.Delay(hang, cancellationToken);
                throw new TimeoutException("injected fault: the database did not answer within its connect timeout");
            }

            return await inner.RevokedSinceAsync(since, cancellationToken);
        }

        public Task<IReadOnlyList<CertificateRecord>> RecordRevocationAsync(string serialHex, RevocationReason reason, DateTimeOffset? invalidityDate, AuditEntry audit, BlockedKey? block = null, CancellationToken cancellationToken = default) =>
            inner.RecordRevocationAsync(serialHex, reason, invalidityDate, audit, block, cancellationToken);

        public Task<KeyBlockOutcome> BlockKeyAsync(BlockedKey block, AuditEntry audit, CancellationToken cancellationToken = default) => inner.BlockKeyAsync(block, audit, cancellationToken);

        public Task<BlockedKey?> UnblockKeyAsync(string publicKeySha256, AuditEntry audit, CancellationToken cancellationToken = default) => inner.UnblockKeyAsync(publicKeySha256, audit, cancellationToken);

        public Task<int> FillKeyFingerprintsAsync(CancellationToken cancellationToken = default) => inner.FillKeyFingerprintsAsync(cancellationToken);

        public IEnumerable<RevokedEntry> ReadRevoked(string issuerName, DateTimeOffset? since = null) => inner.ReadRevoked(issuerName, since);

        public Task<long> ReserveCrlNumberAsync(string authority, CancellationToken cancellationToken = default) => inner.ReserveCrlNumberAsync(authority, cancellationToken);

        public Task RecordCrlAsync(CrlRecord crl, AuditEntry audit, CancellationToken cancellationToken = default) => inner.RecordCrlAsync(crl, audit, cancellationToken);

        public Task<CrlRecord?> FindCrlAsync(string authority, CancellationToken cancellationToken = default) => inner.FindCrlAsync(authority, cancellationToken);

        public Task<CrlRecord?> FindCrlSummaryAsync(string authority, CancellationToken cancellationToken = default) => inner.FindCrlSummaryAsync(authority, cancellationToken);
    }

    private byte[] Request(string serialHex)
    {
        var generator = new OcspReqGenerator();
        generator.AddRequest(new CertificateID(new AlgorithmIdentifier(OiwObjectIdentifiers.IdSha1, DerNull.Instance), ca.Issuing, new BigInteger(serialHex, 16)));
        return generator.Generate().GetEncoded();
    }

    private static object? Status(OcspAnswer answer) =>
        ((BasicOcspResp)new OcspResp(answer.Der).GetResponseObject()).Responses.Single().GetCertStatus();

    [Fact]
    public async Task DatabaseHanging_OnlyThePollThatFindsItDownWaits_ThenARevocationElsewhereIsSeenWhenItIsBack()
    {
        var issued = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csrs.Dns("ocsp-outage.example.com"), Profile = "tls-server", Requester = "alice", Source = "test" });
        var ledger = new HangingLedger(ca.Services.GetRequiredService<IRevocationLedger>());
        using var responder = ActivatorUtilities.CreateInstance<OcspResponder>(ca.Services, ledger);
        var request = Request(issued.SerialHex!);
        Assert.Null(Status(await responder.RespondAsync(request)));

        ledger.Hang = TimeSpan.FromSeconds(3);
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        // The request that carries the poll finding the database down waits for it (once), then gets the cached answer.
        var clock = Stopwatch.StartNew();
        Assert.Null(Status(await responder.RespondAsync(request)));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.5), $"the poll did not wait for the hanging database ({clock.Elapsed})");
        var looks = ledger.Looks;

        // While it is down, the polls go on (every two seconds) beside the requests, which never wait for them.
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2.2));
            clock.Restart();
            Assert.Null(Status(await responder.RespondAsync(request)));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a request waited for the poll while the database was down ({clock.Elapsed})");
        }

        Assert.True(ledger.Looks > looks, "no poll looked whether the database was back");

        // Back: another process's revocation (straight into the database, without this process's revocation event)
        // is seen once a poll has run again.
        ledger.Hang = null;
        await ca.Services.GetRequiredService<IRevocationLedger>().RecordRevocationAsync(issued.SerialHex!, RevocationReason.KeyCompromise, null, new AuditEntry("officer-ann", "certificate.revoked", $"certificate:{issued.SerialHex}", "test"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        object? status;
        while ((status = Status(await responder.RespondAsync(request))) is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.IsType<RevokedStatus>(status);
    }
}
