using MiniCa.Core.Ledger;

namespace MiniCa.Data.Entities;

/// <summary>A public key that is no longer certified (BR §6.1.1.3 (4)); written with the revocation that reported it.</summary>
public sealed class BlockedKeyEntity
{
    /// <summary>Surrogate key.</summary>
    public long Id { get; set; }

    /// <summary>SHA-256 of the SubjectPublicKeyInfo DER, lowercase hex; unique.</summary>
    public string PublicKeySha256 { get; set; } = string.Empty;

    /// <summary>RFC 5280 §5.3.1 reason name.</summary>
    public string Reason { get; set; } = string.Empty;

    /// <summary>What reported it, e.g. <c>certificate:SERIAL</c>.</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>When it was blocked.</summary>
    public DateTimeOffset BlockedAt { get; set; }

    /// <summary>Who blocked it.</summary>
    public string BlockedBy { get; set; } = string.Empty;

    /// <summary>The row of <paramref name="key"/>.</summary>
    public static BlockedKeyEntity From(BlockedKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new BlockedKeyEntity
        {
            PublicKeySha256 = key.PublicKeySha256,
            Reason = key.Reason,
            Source = key.Source,
            BlockedAt = key.BlockedAt,
            BlockedBy = key.BlockedBy,
        };
    }

    /// <summary>The domain record.</summary>
    public BlockedKey ToDomain() => new()
    {
        PublicKeySha256 = PublicKeySha256,
        Reason = Reason,
        Source = Source,
        BlockedAt = BlockedAt,
        BlockedBy = BlockedBy,
    };
}
