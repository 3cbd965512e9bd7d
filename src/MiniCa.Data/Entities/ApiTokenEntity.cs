namespace MiniCa.Data.Entities;

/// <summary>
/// A personal API token. Only the SHA-256 hash of the secret is stored; the secret is shown once, at creation.
/// </summary>
public sealed class ApiTokenEntity
{
    /// <summary>Surrogate key.</summary>
    public long Id { get; set; }

    /// <summary>The owner (an Identity user id).</summary>
    public string UserId { get; set; } = string.Empty;

    /// <summary>The owner's name at creation, for lists and audit.</summary>
    public string UserName { get; set; } = string.Empty;

    /// <summary>What the owner called it.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The first characters of the secret, so the owner can tell tokens apart.</summary>
    public string Prefix { get; set; } = string.Empty;

    /// <summary>Lowercase hex SHA-256 of the whole secret; unique.</summary>
    public string Hash { get; set; } = string.Empty;

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it stops working, if ever.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>When it was revoked.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>When it was last used (updated at most once a minute).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }
}
