namespace MiniCa.Core.Authorities;

/// <summary>Where an authority certificate is in its creation.</summary>
public enum AuthorityStatus
{
    /// <summary>Recorded and about to be signed: the to-be-signed bytes are kept, no certificate yet.</summary>
    Pending,

    /// <summary>Signed, verified and in use.</summary>
    Active,
}

/// <summary>A CA key the key ceremony generates: recorded before the HSM makes it.</summary>
public sealed record KeyGeneration
{
    /// <summary>The authority's name, which is also the key's label.</summary>
    public required string Name { get; init; }

    /// <summary>The key's algorithm, e.g. <c>P-256</c>.</summary>
    public required string KeyAlgorithm { get; init; }

    /// <summary>The identifier the key is generated with (PKCS#11 <c>CKA_ID</c>), lowercase hex.</summary>
    public required string KeyId { get; init; }

    /// <summary>When the generation was recorded (UTC).</summary>
    public required DateTimeOffset StartedAt { get; init; }
}

/// <summary>The record of one CA certificate (root or subordinate).</summary>
public sealed record AuthorityCertificate
{
    /// <summary>The authority's name from the configuration (e.g. <c>root</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The name of the authority that signed it; the same as <see cref="Name"/> for a root.</summary>
    public required string IssuerName { get; init; }

    /// <summary>Serial number as lowercase hex without leading zeros.</summary>
    public required string SerialHex { get; init; }

    /// <summary>The subject DN as text.</summary>
    public required string Subject { get; init; }

    /// <summary>The address of the authority's key (a <c>pkcs11:</c> URI).</summary>
    public required string KeyUri { get; init; }

    /// <summary>Start of validity (UTC).</summary>
    public required DateTimeOffset NotBefore { get; init; }

    /// <summary>End of validity (UTC).</summary>
    public required DateTimeOffset NotAfter { get; init; }

    /// <summary>The DER TBSCertificate that was recorded before signing.</summary>
    public required byte[] TbsDer { get; init; }

    /// <summary>The DER certificate once signed; <see langword="null"/> while pending.</summary>
    public byte[]? CertificateDer { get; init; }

    /// <summary>Pending until the signature is made and verified.</summary>
    public required AuthorityStatus Status { get; init; }
}
