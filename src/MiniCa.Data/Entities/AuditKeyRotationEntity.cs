namespace MiniCa.Data.Entities;

/// <summary>
/// An audit key replaced by a recorded rotation, keyed by its SHA-256, so that a key is replaced once: of two
/// rotations from the same key at the same moment (two processes), the database keeps one.
/// </summary>
public sealed class AuditKeyRotationEntity
{
    /// <summary>The SHA-256 of the replaced key's SubjectPublicKeyInfo (lowercase hex).</summary>
    public string ReplacedKeySha256 { get; set; } = string.Empty;

    /// <summary>The audit event that records the rotation.</summary>
    public long EventId { get; set; }
}
