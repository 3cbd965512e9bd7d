using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// The SQLite ledger commits concurrent issuance writes together (one transaction, one fsync): each write still
/// succeeds or fails on its own, and a write has completed only when it is in the database.
/// </summary>
[Collection(IssuanceCollection.Name)]
public sealed class GroupCommitTests(IssuanceFixture ca)
{
    private IIssuanceLedger Ledger => ca.Services.GetRequiredService<IIssuanceLedger>();

    private static RequestDraft Request(string name) => new() { Profile = "tls-server", Requester = "group-commit", Source = "test", Identifiers = ["dns:" + name] };

    private static CertificateDraft Certificate(string serial, string name) => new()
    {
        SerialHex = serial,
        IssuerName = "issuing",
        Subject = "CN=" + name,
        Identifiers = ["dns:" + name],
        Profile = "tls-server",
        NotBefore = DateTimeOffset.UtcNow,
        NotAfter = DateTimeOffset.UtcNow.AddDays(30),
        TbsDer = RandomNumberGenerator.GetBytes(64),
        PublicKeySha256 = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
    };

    private static string NewSerial() => "7" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(15));

    private static AuditEntry Audit(string action) => new("group-commit", action, string.Empty, "test");

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
    public async Task RecordIssued_OneCertificateNotBeingSigned_FailsAloneAndChangesNothing()
    {
        var recorded = new List<(string Serial, long RequestId, long CertificateId)>();
        for (var i = 0; i < 20; i++)
        {
            var serial = NewSerial();
            var (requestId, certificateId) = await Ledger.RecordSigningAsync(Request($"i{i}.example.com"), null, Certificate(serial, $"i{i}.example.com"), Audit("certificate.signing"));
            recorded.Add((serial, requestId, certificateId));
        }

        // The 10th names a certificate of another request: its guard must refuse it inside the shared batch.
        var writes = recorded.Select((r, i) => Task.Run(() => Ledger.RecordIssuedAsync(r.RequestId, i == 10 ? recorded[11].CertificateId : r.CertificateId, [0x30, 0x00], Audit("certificate.issued")))).ToList();
        await Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default);

        var error = Assert.IsType<CaException>(writes[10].Exception!.InnerException);
        Assert.Equal(CaErrorKind.InvalidState, error.Kind);
        for (var i = 0; i < recorded.Count; i++)
        {
            var row = await ca.Reader.FindCertificateAsync(recorded[i].Serial);
            Assert.Equal(i == 10 ? CertificateStatus.Signing : CertificateStatus.Issued, row!.Status);
            Assert.Equal(i == 10 ? null : [0x30, 0x00], row.Der);
            Assert.Equal(i == 10 ? RequestStatus.Approved : RequestStatus.Issued, (await ca.Reader.FindRequestAsync(recorded[i].RequestId))!.Status);
        }
    }
}
