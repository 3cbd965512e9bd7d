namespace MiniCa.Core.Ledger;

/// <summary>
/// Records issuance, step by step, each step with its audit event in one transaction: a request that ends before
/// signing, the certificate about to be signed (before the HSM sees it), and the outcome after signing.
/// </summary>
public interface IIssuanceLedger
{
    /// <summary>
    /// Announces an issuance that will record its certificate and commit it; dispose the result when the issuance
    /// ends. A ledger may hold a commit back for the writes of the issuances under way, so that they share it.
    /// </summary>
    IDisposable BeginIssuance();

    /// <summary>Records a request that stops here: <see cref="RequestStatus.Rejected"/>, <see cref="RequestStatus.Pending"/> or <see cref="RequestStatus.Failed"/>.</summary>
    Task<long> RecordRequestAsync(RequestDraft request, RequestStatus status, IReadOnlyList<string> problems, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a new request (or takes an approved one by id) together with the certificate about to be signed.
    /// Fails with <see cref="Errors.CaErrorKind.AlreadyExists"/> when the serial is taken, and with
    /// <see cref="Errors.CaErrorKind.PolicyViolation"/> when the certificate's key is blocked (<see cref="BlockedKey"/>).
    /// </summary>
    Task<(long RequestId, long CertificateId)> RecordSigningAsync(RequestDraft? newRequest, long? existingRequestId, CertificateDraft certificate, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>Stores the signed certificate and marks request and certificate issued.</summary>
    Task RecordIssuedAsync(long requestId, long certificateId, byte[] certificateDer, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>Records an officer's decision on a pending request and returns the request's new status.</summary>
    Task<RequestStatus> RecordDecisionAsync(long requestId, string officer, bool approve, string comment, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>Marks a signing attempt (and its request) failed.</summary>
    Task RecordFailedAsync(long requestId, long? certificateId, string reason, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks failed each approved request whose certificate has been recorded as being signed since before
    /// <paramref name="recordedBefore"/>: an issuance that a stop or a crash cut short, which would otherwise stay
    /// approved for ever. The certificate's row stays as it is, being signed: it may have been signed, so OCSP
    /// answers for it and it can be revoked. Returns the serials of those certificates.
    /// </summary>
    Task<IReadOnlyList<string>> SettleInterruptedAsync(DateTimeOffset recordedBefore, CancellationToken cancellationToken = default);
}

/// <summary>Reads requests and certificates.</summary>
public interface IIssuanceReader
{
    /// <summary>The most recent requests, newest first.</summary>
    Task<IReadOnlyList<RequestRecord>> ListRequestsAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>A request by id.</summary>
    Task<RequestRecord?> FindRequestAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>A certificate by serial (lowercase hex).</summary>
    Task<CertificateRecord?> FindCertificateAsync(string serialHex, CancellationToken cancellationToken = default);

    /// <summary>The most recently issued certificate of <paramref name="profile"/> whose subject is <paramref name="subject"/>.</summary>
    Task<CertificateRecord?> FindLatestIssuedAsync(string profile, string subject, CancellationToken cancellationToken = default);

    /// <summary>How many certificates there are in each status.</summary>
    Task<IReadOnlyDictionary<CertificateStatus, int>> CountCertificatesAsync(CancellationToken cancellationToken = default);

    /// <summary>The blocked key whose SubjectPublicKeyInfo has this SHA-256 (lowercase hex), if it is blocked.</summary>
    Task<BlockedKey?> FindBlockedKeyAsync(string publicKeySha256, CancellationToken cancellationToken = default);

    /// <summary>Blocked keys, most recently blocked first.</summary>
    Task<IReadOnlyList<BlockedKey>> ListBlockedKeysAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>Audit events, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> ListAuditAsync(int limit, CancellationToken cancellationToken = default);
}
