using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Configuration;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using MiniCa.TestSupport;
using static MiniCa.Tests.Shared.LedgerWrites;

namespace MiniCa.Issuance.Tests;

/// <summary>An issuance cut short by a stop or a crash leaves its request approved; the web host settles it.</summary>
[Collection(IssuanceCollection.Name)]
public sealed class InterruptedIssuanceTests(IssuanceFixture ca)
{
    /// <summary>The clock <paramref name="ahead"/> of the real one.</summary>
    private sealed class Later(TimeSpan ahead) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + ahead;
    }

    [Fact]
    public async Task CertificateBeingSignedForTenMinutes_ItsRequestFailsWithTheSerial_TheCertificateStaysRevocable()
    {
        var ledger = ca.Services.GetRequiredService<IIssuanceLedger>();
        var serial = NewSerial();
        var (requestId, _) = await ledger.RecordSigningAsync(Request("interrupted.example.com"), null, Certificate(serial, "interrupted.example.com"), Audit("certificate.signing"));
        using var logs = new LogRecorder();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        InterruptedIssuances SettlerAt(TimeSpan ahead) =>
            new(ledger, ca.Services.GetRequiredService<CaOptions>(), new Later(ahead), loggers.CreateLogger<InterruptedIssuances>());

        // Within ten minutes it may still be signing, in this process or another: left alone.
        Assert.Equal(TimeSpan.FromMinutes(10), SettlerAt(TimeSpan.Zero).After);
        await SettlerAt(TimeSpan.FromMinutes(9)).SettleOnceAsync();
        Assert.Equal(RequestStatus.Approved, (await ca.Reader.FindRequestAsync(requestId))!.Status);

        Assert.True(await SettlerAt(TimeSpan.FromMinutes(11)).SettleOnceAsync() >= 1);
        var request = (await ca.Reader.FindRequestAsync(requestId))!;
        Assert.Equal(RequestStatus.Failed, request.Status);
        Assert.Contains(request.Problems, p => p.Contains($"signing certificate {serial}", StringComparison.Ordinal) && p.Contains("submit the request again", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(serial, StringComparison.Ordinal));
        Assert.Contains(await ca.Reader.ListAuditAsync(50), a => a.Action == "request.interrupted" && a.Subject == $"request:{requestId}");

        // The certificate may have been signed: it stays recorded as being signed, answered by OCSP and revocable.
        Assert.Equal(CertificateStatus.Signing, (await ca.Reader.FindCertificateAsync(serial))!.Status);
        Assert.Equal(CertificateStatus.Revoked, (await ca.Revocation.RevokeAsync(serial, "superseded", null, "officer-interrupted")).Status);

        // Settled once: a second pass finds nothing more of it.
        await SettlerAt(TimeSpan.FromMinutes(11)).SettleOnceAsync();
        Assert.DoesNotContain(logs.Entries.Skip(1), e => e.Message.Contains(serial, StringComparison.Ordinal));
    }
}
