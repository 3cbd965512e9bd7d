namespace MiniCa.Core.Acme;

/// <summary>RFC 8555 §7.1.6 account status.</summary>
public enum AcmeAccountStatus
{
    /// <summary>In use.</summary>
    Valid,

    /// <summary>Deactivated by its holder (final).</summary>
    Deactivated,

    /// <summary>Revoked by the CA (final).</summary>
    Revoked,
}

/// <summary>RFC 8555 §7.1.6 order status.</summary>
public enum AcmeOrderStatus
{
    /// <summary>Some authorization is not valid yet.</summary>
    Pending,

    /// <summary>Every authorization is valid; finalize may be called.</summary>
    Ready,

    /// <summary>Finalize was called; the certificate is being issued.</summary>
    Processing,

    /// <summary>The certificate is issued.</summary>
    Valid,

    /// <summary>Failed or expired (final).</summary>
    Invalid,
}

/// <summary>RFC 8555 §7.1.6 authorization status.</summary>
public enum AcmeAuthorizationStatus
{
    /// <summary>Waiting for a challenge.</summary>
    Pending,

    /// <summary>A challenge succeeded.</summary>
    Valid,

    /// <summary>A challenge failed (final).</summary>
    Invalid,

    /// <summary>Deactivated by the client (final).</summary>
    Deactivated,

    /// <summary>Expired (final).</summary>
    Expired,

    /// <summary>Revoked by the CA (final).</summary>
    Revoked,
}

/// <summary>RFC 8555 §7.1.6 challenge status.</summary>
public enum AcmeChallengeStatus
{
    /// <summary>Not attempted.</summary>
    Pending,

    /// <summary>The client asked; the server is validating.</summary>
    Processing,

    /// <summary>Validated.</summary>
    Valid,

    /// <summary>Failed (final).</summary>
    Invalid,
}

/// <summary>An identifier as ACME carries it (RFC 8555 §9.7.7: <c>dns</c>; RFC 8738: <c>ip</c>).</summary>
public sealed record AcmeIdentifier(string Type, string Value)
{
    /// <inheritdoc />
    public override string ToString() => $"{Type}:{Value}";
}

/// <summary>An ACME account as stored.</summary>
public sealed record AcmeAccount
{
    /// <summary>The identifier.</summary>
    public required long Id { get; init; }

    /// <summary>RFC 7638 thumbprint of the account key (base64url SHA-256); unique.</summary>
    public required string Thumbprint { get; init; }

    /// <summary>The public JWK, as JSON.</summary>
    public required string Jwk { get; init; }

    /// <summary>Contact URLs (mailto:).</summary>
    public required IReadOnlyList<string> Contacts { get; init; }

    /// <summary>The status.</summary>
    public required AcmeAccountStatus Status { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The EAB key id it was bound with, if any.</summary>
    public string? ExternalAccountId { get; init; }

    /// <summary>The portal user the EAB key belongs to: who the account's certificates are attributed to.</summary>
    public string? PortalUser { get; init; }
}

/// <summary>A challenge as stored.</summary>
public sealed record AcmeChallenge
{
    /// <summary>The identifier.</summary>
    public required long Id { get; init; }

    /// <summary>The authorization it belongs to.</summary>
    public required long AuthorizationId { get; init; }

    /// <summary><c>http-01</c>, <c>dns-01</c> or <c>tls-alpn-01</c>.</summary>
    public required string Type { get; init; }

    /// <summary>128 bits of randomness, base64url (RFC 8555 §8.3: at least 128 bits).</summary>
    public required string Token { get; init; }

    /// <summary>The status.</summary>
    public required AcmeChallengeStatus Status { get; init; }

    /// <summary>When it was validated.</summary>
    public DateTimeOffset? ValidatedAt { get; init; }

    /// <summary>The problem type suffix (e.g. <c>connection</c>) when it failed.</summary>
    public string? ErrorType { get; init; }

    /// <summary>What went wrong, for a person.</summary>
    public string? ErrorDetail { get; init; }
}

/// <summary>An authorization as stored, with its challenges.</summary>
public sealed record AcmeAuthorization
{
    /// <summary>The identifier.</summary>
    public required long Id { get; init; }

    /// <summary>The account.</summary>
    public required long AccountId { get; init; }

    /// <summary>The order.</summary>
    public required long OrderId { get; init; }

    /// <summary>What is authorized.</summary>
    public required AcmeIdentifier Identifier { get; init; }

    /// <summary>Whether the order asked for <c>*.</c> + the identifier (RFC 8555 §7.1.4).</summary>
    public required bool Wildcard { get; init; }

    /// <summary>The status.</summary>
    public required AcmeAuthorizationStatus Status { get; init; }

    /// <summary>When it expires.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>Its challenges.</summary>
    public required IReadOnlyList<AcmeChallenge> Challenges { get; init; }
}

/// <summary>An order as stored.</summary>
public sealed record AcmeOrder
{
    /// <summary>The identifier.</summary>
    public required long Id { get; init; }

    /// <summary>The account.</summary>
    public required long AccountId { get; init; }

    /// <summary>The status.</summary>
    public required AcmeOrderStatus Status { get; init; }

    /// <summary>The identifiers.</summary>
    public required IReadOnlyList<AcmeIdentifier> Identifiers { get; init; }

    /// <summary>The certificate profile (a file in <c>policies/</c> that allows ACME).</summary>
    public required string Profile { get; init; }

    /// <summary>When it expires.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>The requested notBefore.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>The requested notAfter.</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>The problem type suffix when it failed.</summary>
    public string? ErrorType { get; init; }

    /// <summary>What went wrong, for a person.</summary>
    public string? ErrorDetail { get; init; }

    /// <summary>The issued certificate's serial (lowercase hex).</summary>
    public string? CertificateSerial { get; init; }

    /// <summary>The issuance request behind it.</summary>
    public long? RequestId { get; init; }

    /// <summary>The ARI certificate identifier of the certificate this order replaces (RFC 9773 §5).</summary>
    public string? Replaces { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Its authorizations.</summary>
    public required IReadOnlyList<long> AuthorizationIds { get; init; }
}

/// <summary>A new order: identifiers, profile, and the challenge types each authorization offers.</summary>
public sealed record AcmeOrderDraft
{
    /// <summary>The account.</summary>
    public required long AccountId { get; init; }

    /// <summary>The identifiers.</summary>
    public required IReadOnlyList<AcmeIdentifier> Identifiers { get; init; }

    /// <summary>The certificate profile.</summary>
    public required string Profile { get; init; }

    /// <summary>When it expires.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>The requested notBefore.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>The requested notAfter.</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>The ARI identifier of the certificate it replaces.</summary>
    public string? Replaces { get; init; }

    /// <summary>Per identifier (same order): the challenge types offered, each with its token.</summary>
    public required IReadOnlyList<IReadOnlyList<(string Type, string Token)>> Challenges { get; init; }
}

/// <summary>An External Account Binding key (RFC 8555 §7.3.4), made by an officer for a portal user.</summary>
public sealed record AcmeEabKey
{
    /// <summary>The key identifier given to the client.</summary>
    public required string KeyId { get; init; }

    /// <summary>The HMAC key (at least 256 bits).</summary>
    public required byte[] HmacKey { get; init; }

    /// <summary>The portal user it belongs to.</summary>
    public required string PortalUser { get; init; }

    /// <summary>The officer who made it.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The account it was bound to, once used (a key binds one account).</summary>
    public long? AccountId { get; init; }
}
