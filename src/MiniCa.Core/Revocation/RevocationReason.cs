using MiniCa.Core.Errors;

namespace MiniCa.Core.Revocation;

/// <summary>CRLReason codes (RFC 5280 §5.3.1); the numeric values are the wire values.</summary>
public enum RevocationReason
{
    /// <summary>No reason given (RFC 5280 recommends omitting the reasonCode extension for it).</summary>
    Unspecified = 0,

    /// <summary>The subscriber's private key is known or suspected to be compromised.</summary>
    KeyCompromise = 1,

    /// <summary>A CA's private key is known or suspected to be compromised.</summary>
    CaCompromise = 2,

    /// <summary>The subject's name or other information changed.</summary>
    AffiliationChanged = 3,

    /// <summary>The certificate was replaced.</summary>
    Superseded = 4,

    /// <summary>The certificate is no longer needed.</summary>
    CessationOfOperation = 5,

    /// <summary>Temporarily on hold; refused unless the profile allows it (CA/B Forum BR §4.9.13 forbids holds).</summary>
    CertificateHold = 6,

    /// <summary>The privilege the certificate conveyed was withdrawn.</summary>
    PrivilegeWithdrawn = 9,
}

/// <summary>Reason names as RFC 5280 spells them (<c>keyCompromise</c>, …).</summary>
public static class RevocationReasons
{
    private static readonly Dictionary<string, RevocationReason> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["unspecified"] = RevocationReason.Unspecified,
        ["keyCompromise"] = RevocationReason.KeyCompromise,
        ["cACompromise"] = RevocationReason.CaCompromise,
        ["affiliationChanged"] = RevocationReason.AffiliationChanged,
        ["superseded"] = RevocationReason.Superseded,
        ["cessationOfOperation"] = RevocationReason.CessationOfOperation,
        ["certificateHold"] = RevocationReason.CertificateHold,
        ["privilegeWithdrawn"] = RevocationReason.PrivilegeWithdrawn,
    };

    /// <summary>Every reason name.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>Parses an RFC 5280 reason name (case-insensitive).</summary>
    /// <exception cref="CaException">Not a reason (<see cref="CaErrorKind.Malformed"/>).</exception>
    public static RevocationReason Parse(string name) =>
        ByName.TryGetValue(name ?? string.Empty, out var reason)
            ? reason
            : throw new CaException(CaErrorKind.Malformed, $"'{name}' is not a revocation reason; use one of {string.Join(", ", ByName.Keys)} (RFC 5280 §5.3.1).");

    /// <summary>The RFC 5280 name of a reason.</summary>
    public static string Name(RevocationReason reason) => ByName.First(kv => kv.Value == reason).Key;
}
