using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Issuance.Tests;

/// <summary>Faults injected around the HSM signature: the ledger refuses one of its steps.</summary>
[Collection(IssuanceCollection.Name)]
public sealed class FaultTests(IssuanceFixture ca)
{
    /// <summary>The real ledger, failing one step on purpose (the database "fails").</summary>
    private sealed class FailingLedger(IIssuanceLedger inner, string failAt) : IIssuanceLedger
    {
        private static CaException Fault() => new(CaErrorKind.StorageFailed, "injected fault: the database is unavailable");

        public IDisposable BeginIssuance() => inner.BeginIssuance();

        public Task<long> RecordRequestAsync(RequestDraft request, RequestStatus status, IReadOnlyList<string> problems, AuditEntry audit, CancellationToken cancellationToken = default) =>
            inner.RecordRequestAsync(request, status, problems, audit, cancellationToken);

        public Task<(long RequestId, long CertificateId)> RecordSigningAsync(RequestDraft? newRequest, long? existingRequestId, CertificateDraft certificate, AuditEntry audit, CancellationToken cancellationToken = default) =>
            failAt == "signing" ? throw Fault() : inner.RecordSigningAsync(newRequest, existingRequestId, certificate, audit, cancellationToken);

        public Task RecordIssuedAsync(long requestId, long certificateId, byte[] certificateDer, AuditEntry audit, CancellationToken cancellationToken = default) =>
            failAt is "issued" or "issued+failed" ? throw Fault() : inner.RecordIssuedAsync(requestId, certificateId, certificateDer, audit, cancellationToken);

        public Task<RequestStatus> RecordDecisionAsync(long requestId, string officer, bool approve, string comment, AuditEntry audit, CancellationToken cancellationToken = default) =>
            inner.RecordDecisionAsync(requestId, officer, approve, comment, audit, cancellationToken);

        public Task RecordFailedAsync(long requestId, long? certificateId, string reason, AuditEntry audit, CancellationToken cancellationToken = default) =>
            failAt == "issued+failed" ? throw Fault() : inner.RecordFailedAsync(requestId, certificateId, reason, audit, cancellationToken);

        public Task<IReadOnlyList<string>> SettleInterruptedAsync(DateTimeOffset recordedBefore, CancellationToken cancellationToken = default) =>
            inner.SettleInterruptedAsync(recordedBefore, cancellationToken);
    }

    private IssuanceService ServiceFailingAt(string step) =>
        ActivatorUtilities.CreateInstance<IssuanceService>(ca.Services, new FailingLedger(ca.Services.GetRequiredService<IIssuanceLedger>(), step));

    private static IssuanceSubmission Submission(string name) =>
        new() { Csr = Csrs.Dns(name), Profile = "tls-server", Requester = "fault", Source = "test" };

    [Fact]
    public async Task FaultBeforeSigning_NeverReachesTheHsm()
    {
        using var service = ServiceFailingAt("signing");
        await service.SubmitAsync(Submission("warm.example.com")).ContinueWith(_ => { }, TaskScheduler.Default);
        var before = ca.Hsm.Operations;
        var rowsBefore = (await ca.Reader.CountCertificatesAsync()).Values.Sum();

        var error = await Assert.ThrowsAsync<CaException>(() => service.SubmitAsync(Submission("before.example.com")));

        Assert.Equal(CaErrorKind.StorageFailed, error.Kind);
        Assert.Equal(before, ca.Hsm.Operations);
        Assert.Equal(rowsBefore, (await ca.Reader.CountCertificatesAsync()).Values.Sum());
    }

    [Fact]
    public async Task FaultBetweenSigningAndCommit_LeavesTheAttemptRecordedAndFails()
    {
        using var service = ServiceFailingAt("issued");
        var failedBefore = await ca.CountAsync(CertificateStatus.Failed);

        var error = await Assert.ThrowsAsync<CaException>(() => service.SubmitAsync(Submission("between.example.com")));

        Assert.Equal(CaErrorKind.StorageFailed, error.Kind);
        Assert.Equal(failedBefore + 1, await ca.CountAsync(CertificateStatus.Failed));
        var request = (await ca.Reader.ListRequestsAsync(1)).Single();
        Assert.Equal(RequestStatus.Failed, request.Status);
        Assert.Contains(request.Problems, p => p.Contains("injected fault", StringComparison.Ordinal));
        var certificate = await ca.Reader.FindCertificateAsync(request.CertificateSerial!);
        Assert.NotEmpty(certificate!.TbsDer);
        Assert.Null(certificate.Der);
    }

    [Fact]
    public async Task FaultAfterSigningWithTheDatabaseGone_KeepsTheRowWrittenBeforeSigning()
    {
        using var service = ServiceFailingAt("issued+failed");
        var signingBefore = await ca.CountAsync(CertificateStatus.Signing);

        await Assert.ThrowsAsync<CaException>(() => service.SubmitAsync(Submission("gone.example.com")));

        // The signature was made, so its record must exist: the row (with the exact TBS) stays in Signing.
        Assert.Equal(signingBefore + 1, await ca.CountAsync(CertificateStatus.Signing));
    }
}
