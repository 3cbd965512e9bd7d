using System.Security.Cryptography;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Tests.Shared;

/// <summary>
/// The issuance hot path's writes as the group commit tests make them, and the checks that the SQLite and the
/// PostgreSQL group commits must both pass. Compiled into each test project that uses it (linked, not referenced).
/// </summary>
internal static class LedgerWrites
{
    public static RequestDraft Request(string name) => new() { Profile = "tls-server", Requester = "group-commit", Source = "test", Identifiers = ["dns:" + name] };

    public static CertificateDraft Certificate(string serial, string name, string? publicKeySha256 = null) => new()
    {
        SerialHex = serial,
        IssuerName = "issuing",
        Subject = "CN=" + name,
        Identifiers = ["dns:" + name],
        Profile = "tls-server",
        NotBefore = DateTimeOffset.UtcNow,
        NotAfter = DateTimeOffset.UtcNow.AddDays(30),
        TbsDer = RandomNumberGenerator.GetBytes(64),
        PublicKeySha256 = publicKeySha256 ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
    };

    public static string NewSerial() => "7" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(15));

    public static AuditEntry Audit(string action) => new("group-commit", action, string.Empty, "test");

    /// <summary>
    /// Twenty certificates being signed are marked issued at once; the tenth write names another request's
    /// certificate. Its guard must refuse it inside the shared batch, alone, and change nothing.
    /// </summary>
    public static async Task RecordIssued_OneCertificateNotBeingSigned_FailsAloneAndChangesNothing(IIssuanceLedger ledger, IIssuanceReader reader, string prefix)
    {
        var recorded = new List<(string Serial, long RequestId, long CertificateId)>();
        for (var i = 0; i < 20; i++)
        {
            var serial = NewSerial();
            var (requestId, certificateId) = await ledger.RecordSigningAsync(Request($"{prefix}{i}.example.com"), null, Certificate(serial, $"{prefix}{i}.example.com"), Audit("certificate.signing"));
            recorded.Add((serial, requestId, certificateId));
        }

        var writes = recorded.Select((r, i) => Task.Run(() => ledger.RecordIssuedAsync(r.RequestId, i == 10 ? recorded[11].CertificateId : r.CertificateId, [0x30, 0x00], Audit("certificate.issued")))).ToList();
        await Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(CaErrorKind.InvalidState, Assert.IsType<CaException>(writes[10].Exception!.InnerException).Kind);
        Assert.Equal(19, writes.Count(w => w.IsCompletedSuccessfully));
        for (var i = 0; i < recorded.Count; i++)
        {
            var row = await reader.FindCertificateAsync(recorded[i].Serial);
            Assert.Equal(i == 10 ? CertificateStatus.Signing : CertificateStatus.Issued, row!.Status);
            Assert.Equal(i == 10 ? null : [0x30, 0x00], row.Der);
            Assert.Equal(i == 10 ? RequestStatus.Approved : RequestStatus.Issued, (await reader.FindRequestAsync(recorded[i].RequestId))!.Status);
        }
    }
}
