using MiniCa.Core.Acme;

namespace MiniCa.Data.Entities;

/// <summary>An issued, unused ACME nonce (shared by every node).</summary>
public sealed class AcmeNonceEntity
{
    /// <summary>The nonce (base64url).</summary>
    public string Value { get; set; } = string.Empty;

    /// <summary>When it stops being accepted.</summary>
    public DateTimeOffset Expires { get; set; }
}

/// <summary>An ACME account.</summary>
public sealed class AcmeAccountEntity
{
    /// <summary>Account number (in its URL).</summary>
    public long Id { get; set; }

    /// <summary>RFC 7638 thumbprint of the current key; unique.</summary>
    public string Thumbprint { get; set; } = string.Empty;

    /// <summary>The public JWK as JSON.</summary>
    public string Jwk { get; set; } = string.Empty;

    /// <summary>Contact URLs, one per line.</summary>
    public string Contacts { get; set; } = string.Empty;

    /// <summary>Stored as a string.</summary>
    public AcmeAccountStatus Status { get; set; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The EAB key id it was bound with.</summary>
    public string? ExternalAccountId { get; set; }

    /// <summary>The portal user behind the EAB key.</summary>
    public string? PortalUser { get; set; }
}

/// <summary>An ACME order.</summary>
public sealed class AcmeOrderEntity
{
    /// <summary>Order number.</summary>
    public long Id { get; set; }

    /// <summary>The account.</summary>
    public long AccountId { get; set; }

    /// <summary>Stored as a string.</summary>
    public AcmeOrderStatus Status { get; set; }

    /// <summary><c>type:value</c>, one per line.</summary>
    public string Identifiers { get; set; } = string.Empty;

    /// <summary>The certificate profile.</summary>
    public string Profile { get; set; } = string.Empty;

    /// <summary>When a pending order expires.</summary>
    public DateTimeOffset Expires { get; set; }

    /// <summary>Requested notBefore.</summary>
    public DateTimeOffset? NotBefore { get; set; }

    /// <summary>Requested notAfter.</summary>
    public DateTimeOffset? NotAfter { get; set; }

    /// <summary>Problem type suffix when invalid.</summary>
    public string? ErrorType { get; set; }

    /// <summary>Problem detail when invalid.</summary>
    public string? ErrorDetail { get; set; }

    /// <summary>The issued certificate's serial.</summary>
    public string? CertificateSerial { get; set; }

    /// <summary>The issuance request.</summary>
    public long? RequestId { get; set; }

    /// <summary>ARI identifier of the certificate it replaces.</summary>
    public string? Replaces { get; set; }

    /// <summary>When it was placed.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Its authorizations.</summary>
    public List<AcmeAuthorizationEntity> Authorizations { get; set; } = [];
}

/// <summary>An ACME authorization.</summary>
public sealed class AcmeAuthorizationEntity
{
    /// <summary>Authorization number.</summary>
    public long Id { get; set; }

    /// <summary>The order.</summary>
    public long OrderId { get; set; }

    /// <summary>The account.</summary>
    public long AccountId { get; set; }

    /// <summary><c>dns</c> or <c>ip</c>.</summary>
    public string IdentifierType { get; set; } = string.Empty;

    /// <summary>The name (without <c>*.</c> for a wildcard).</summary>
    public string IdentifierValue { get; set; } = string.Empty;

    /// <summary>Whether the order named the wildcard.</summary>
    public bool Wildcard { get; set; }

    /// <summary>Stored as a string.</summary>
    public AcmeAuthorizationStatus Status { get; set; }

    /// <summary>When it expires.</summary>
    public DateTimeOffset Expires { get; set; }

    /// <summary>Its challenges.</summary>
    public List<AcmeChallengeEntity> Challenges { get; set; } = [];
}

/// <summary>An ACME challenge.</summary>
public sealed class AcmeChallengeEntity
{
    /// <summary>Challenge number.</summary>
    public long Id { get; set; }

    /// <summary>The authorization.</summary>
    public long AuthorizationId { get; set; }

    /// <summary><c>http-01</c>, <c>dns-01</c>, <c>tls-alpn-01</c>.</summary>
    public string Type { get; set; } = string.Empty;

    /// <summary>The token.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>Stored as a string.</summary>
    public AcmeChallengeStatus Status { get; set; }

    /// <summary>When it was validated.</summary>
    public DateTimeOffset? ValidatedAt { get; set; }

    /// <summary>Problem type suffix when invalid.</summary>
    public string? ErrorType { get; set; }

    /// <summary>Problem detail when invalid.</summary>
    public string? ErrorDetail { get; set; }
}

/// <summary>An External Account Binding key.</summary>
public sealed class AcmeEabKeyEntity
{
    /// <summary>The key id.</summary>
    public string KeyId { get; set; } = string.Empty;

    /// <summary>The HMAC key.</summary>
    public byte[] HmacKey { get; set; } = [];

    /// <summary>The portal user it belongs to.</summary>
    public string PortalUser { get; set; } = string.Empty;

    /// <summary>The officer who made it.</summary>
    public string CreatedBy { get; set; } = string.Empty;

    /// <summary>When.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The account it bound, once used.</summary>
    public long? AccountId { get; set; }
}
