namespace MiniCa.Core.Acme;

/// <summary>
/// ACME state, shared by every node (ARCHITECTURE.md §4): nonces, accounts, orders, authorizations, challenges and
/// EAB keys. State changes are guarded (see <see cref="AcmeTransitions"/>) and atomic.
/// </summary>
public interface IAcmeStore
{
    /// <summary>Stores a fresh nonce.</summary>
    Task AddNonceAsync(string nonce, DateTimeOffset expires, CancellationToken cancellationToken = default);

    /// <summary>Uses a nonce up: true once for a nonce that was issued and has not expired, false ever after.</summary>
    Task<bool> ConsumeNonceAsync(string nonce, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The account with this id, or <see langword="null"/>.</summary>
    Task<AcmeAccount?> FindAccountAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>The account holding the key with this RFC 7638 thumbprint, or <see langword="null"/>.</summary>
    Task<AcmeAccount?> FindAccountByThumbprintAsync(string thumbprint, CancellationToken cancellationToken = default);

    /// <summary>Creates an account; binds and uses up the EAB key when one is given (fails if it was used).</summary>
    Task<AcmeAccount> CreateAccountAsync(string thumbprint, string jwk, IReadOnlyList<string> contacts, string? eabKeyId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Replaces the contacts and/or sets the status (deactivation is final).</summary>
    Task<AcmeAccount> UpdateAccountAsync(long id, IReadOnlyList<string>? contacts, AcmeAccountStatus? status, CancellationToken cancellationToken = default);

    /// <summary>Rolls the account key over (fails with AlreadyExists when another account holds the new key).</summary>
    Task<AcmeAccount> ChangeKeyAsync(long id, string thumbprint, string jwk, CancellationToken cancellationToken = default);

    /// <summary>Orders the account placed since <paramref name="since"/> (rate limit).</summary>
    Task<int> CountOrdersSinceAsync(long accountId, DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Creates the order with one authorization per identifier and its challenges.</summary>
    Task<AcmeOrder> CreateOrderAsync(AcmeOrderDraft draft, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The order, with pending orders past their expiry turned invalid.</summary>
    Task<AcmeOrder?> FindOrderAsync(long id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The authorization with its challenges, pending ones past expiry shown as expired.</summary>
    Task<AcmeAuthorization?> FindAuthorizationAsync(long id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The challenge's authorization (with the challenge among its challenges).</summary>
    Task<AcmeAuthorization?> FindChallengeAsync(long challengeId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>pending → processing; false when the challenge or its authorization is not pending.</summary>
    Task<bool> BeginChallengeAsync(long challengeId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>processing → valid or invalid, and the authorization and order follow.</summary>
    Task CompleteChallengeAsync(long challengeId, bool valid, string? errorType, string? errorDetail, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Deactivates a pending or valid authorization; its order becomes invalid.</summary>
    Task<AcmeAuthorization> DeactivateAuthorizationAsync(long id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>ready → processing; false when the order is not ready.</summary>
    Task<bool> BeginFinalizeAsync(long orderId, CancellationToken cancellationToken = default);

    /// <summary>processing → valid (with the certificate) or invalid (with the problem).</summary>
    Task CompleteOrderAsync(long orderId, string? certificateSerial, long? requestId, string? errorType, string? errorDetail, CancellationToken cancellationToken = default);

    /// <summary>The order that produced the certificate, if ACME did.</summary>
    Task<AcmeOrder?> FindOrderByCertificateAsync(string serialHex, CancellationToken cancellationToken = default);

    /// <summary>The EAB key with this id, or <see langword="null"/>.</summary>
    Task<AcmeEabKey?> FindEabKeyAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>Stores a new EAB key.</summary>
    Task AddEabKeyAsync(AcmeEabKey key, CancellationToken cancellationToken = default);

    /// <summary>The URLs' ids of an account's orders that are not yet final or were placed recently, newest first (RFC 8555 §7.1.2.1).</summary>
    Task<IReadOnlyList<long>> ListAccountOrdersAsync(long accountId, int limit, CancellationToken cancellationToken = default);

    /// <summary>Authorizations with a challenge left in processing (a restart interrupted its validation).</summary>
    Task<IReadOnlyList<AcmeAuthorization>> ListProcessingAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Recent accounts (for the portal), newest first.</summary>
    Task<IReadOnlyList<AcmeAccount>> ListAccountsAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>Recent orders (for the portal), newest first.</summary>
    Task<IReadOnlyList<AcmeOrder>> ListOrdersAsync(int limit, CancellationToken cancellationToken = default);
}
