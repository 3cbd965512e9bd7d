namespace MiniCa.Core.Signing;

/// <summary>Signature algorithms MiniCa signs certificates, CRLs and OCSP responses with.</summary>
public enum SignatureAlgorithm
{
    /// <summary>ECDSA with SHA-256 (RFC 5758 §3.2); the match for P-256 keys.</summary>
    EcdsaSha256,

    /// <summary>ECDSA with SHA-384 (RFC 5758 §3.2); the match for P-384 keys.</summary>
    EcdsaSha384,

    /// <summary>RSASSA-PKCS1-v1_5 with SHA-256 (RFC 4055 §5).</summary>
    RsaPkcs1Sha256,

    /// <summary>RSASSA-PKCS1-v1_5 with SHA-384 (RFC 4055 §5).</summary>
    RsaPkcs1Sha384,

    /// <summary>RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 4055 §3.1).</summary>
    RsaPssSha256,

    /// <summary>RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt (RFC 4055 §3.1).</summary>
    RsaPssSha384,
}
