using MiniCa.Core.Authorities;

namespace MiniCa.Data.Entities;

/// <summary>A CA key about to be generated in the HSM (written before the key exists; never changed).</summary>
public sealed class KeyGenerationEntity
{
    /// <summary>Surrogate key; the latest row of an authority is the one that counts.</summary>
    public long Id { get; set; }

    /// <summary>The authority's name (the key's label).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The key's algorithm, e.g. <c>P-256</c>.</summary>
    public string KeyAlgorithm { get; set; } = string.Empty;

    /// <summary>The key's CKA_ID in lowercase hex.</summary>
    public string KeyId { get; set; } = string.Empty;

    /// <summary>When it was recorded.</summary>
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>The row of <paramref name="generation"/>.</summary>
    public static KeyGenerationEntity From(KeyGeneration generation)
    {
        ArgumentNullException.ThrowIfNull(generation);
        return new KeyGenerationEntity
        {
            Name = generation.Name,
            KeyAlgorithm = generation.KeyAlgorithm,
            KeyId = generation.KeyId,
            StartedAt = generation.StartedAt,
        };
    }

    /// <summary>The domain record.</summary>
    public KeyGeneration ToDomain() => new()
    {
        Name = Name,
        KeyAlgorithm = KeyAlgorithm,
        KeyId = KeyId,
        StartedAt = StartedAt,
    };
}
