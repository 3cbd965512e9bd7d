using System.Globalization;

namespace MiniCa.Core.Ledger;

/// <summary>
/// A public key the CA no longer certifies, because its private key was reported compromised: CA/B Forum BR
/// §6.1.1.3 (4) obliges the CA to refuse a request for it. Recorded with the revocation that reported it.
/// </summary>
public sealed record BlockedKey
{
    /// <summary>SHA-256 of the SubjectPublicKeyInfo DER, lowercase hex.</summary>
    public required string PublicKeySha256 { get; init; }

    /// <summary>Why, as an RFC 5280 §5.3.1 reason name (<c>keyCompromise</c>).</summary>
    public required string Reason { get; init; }

    /// <summary>What reported it: <c>certificate:SERIAL</c> for the revocation of that certificate, <c>report</c> for a key blocked by an operator.</summary>
    public required string Source { get; init; }

    /// <summary>When it was blocked.</summary>
    public required DateTimeOffset BlockedAt { get; init; }

    /// <summary>Who blocked it (the revocation's actor).</summary>
    public required string BlockedBy { get; init; }

    /// <summary>The reason a request for this key is refused, as one line; it names no person (requesters read it).</summary>
    public string Problem =>
        $"the public key was reported compromised ({(Source.StartsWith("certificate:", StringComparison.Ordinal) ? $"{Source} was revoked for {Reason}" : "blocked")} on {BlockedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}); request a certificate for a new key (BR §6.1.1.3 (4))";
}
