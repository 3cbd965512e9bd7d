using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Tests.Shared;
using static MiniCa.Tests.Shared.LedgerWrites;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// The SQLite ledger commits concurrent issuance writes together (one transaction, one fsync): each write still
/// succeeds or fails on its own, and a write has completed only when it is in the database.
/// </summary>
[Collection(IssuanceCollection.Name)]
public sealed class GroupCommitTests(IssuanceFixture ca)
{
    private IIssuanceLedger Ledger => ca.Services.GetRequiredService<IIssuanceLedger>();

    [Fact]
    public async Task RecordSigning_ConcurrentWritesWithOneTakenSerial_OnlyThatOneFails()
    {
        var taken = NewSerial();
        await Ledger.RecordSigningAsync(Request("taken.example.com"), null, Certificate(taken, "taken.example.com"), Audit("certificate.signing"));
        var serials = Enumerable.Range(0, 60).Select(_ => NewSerial()).ToList();
        serials.Insert(30, taken);

        var writes = serials.Select((serial, i) => Task.Run(() => Ledger.RecordSigningAsync(Request($"w{i}.example.com"), null, Certificate(serial, $"w{i}.example.com"), Audit("certificate.signing")))).ToList();
        await Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default);

        var failed = writes.Where(w => w.IsFaulted).ToList();
        var error = Assert.IsType<CaException>(Assert.Single(failed).Exception!.InnerException);
        Assert.Equal(CaErrorKind.AlreadyExists, error.Kind);
        Assert.Equal(60, writes.Count(w => w.IsCompletedSuccessfully));
        Assert.Equal(60, writes.Where(w => w.IsCompletedSuccessfully).Select(w => w.Result.CertificateId).Distinct().Count());
        foreach (var serial in serials.Where(s => s != taken))
        {
            var row = await ca.Reader.FindCertificateAsync(serial);
            Assert.Equal(CertificateStatus.Signing, row!.Status);
            Assert.Equal(64, row.TbsDer.Length);
        }

        // The refused write left nothing (its batch was rolled back and run again write by write), and no write of
        // that batch was recorded twice.
        Assert.DoesNotContain(await ca.Reader.ListRequestsAsync(100_000), r => r.Identifiers.Contains("dns:w30.example.com"));
        var audit = (await ca.Reader.ListAuditAsync(100_000)).GroupBy(a => a.Subject).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(serials, serial => Assert.Equal(1, audit[$"certificate:{serial}"]));
    }

    [Fact]
    public Task RecordIssued_OneCertificateNotBeingSigned_FailsAloneAndChangesNothing() =>
        LedgerWrites.RecordIssued_OneCertificateNotBeingSigned_FailsAloneAndChangesNothing(Ledger, ca.Reader, "i");
}
