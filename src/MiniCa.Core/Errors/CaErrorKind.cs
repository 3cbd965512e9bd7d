namespace MiniCa.Core.Errors;

/// <summary>
/// The one error vocabulary inside MiniCa. Edges (HTTP, OCSP, CLI, portal) translate a kind into their own
/// protocol's error; nothing inside speaks HTTP status codes.
/// </summary>
public enum CaErrorKind
{
    /// <summary>A configuration file or value is missing or wrong.</summary>
    Configuration,

    /// <summary>The PKCS#11 module could not be found or loaded.</summary>
    HsmModuleNotFound,

    /// <summary>No token with the requested label or serial is present.</summary>
    HsmTokenNotFound,

    /// <summary>The token refused the PIN (wrong, locked or expired).</summary>
    HsmPinIncorrect,

    /// <summary>A key with the requested name or URI is not on the token.</summary>
    HsmKeyNotFound,

    /// <summary>The HSM failed an operation (device error, unsupported mechanism, …).</summary>
    HsmOperationFailed,

    /// <summary>The thing to create already exists.</summary>
    AlreadyExists,

    /// <summary>The thing asked for does not exist.</summary>
    NotFound,

    /// <summary>The operation is not allowed in the current state.</summary>
    InvalidState,

    /// <summary>The input could not be parsed.</summary>
    Malformed,

    /// <summary>The request breaks the certificate profile's rules (or a lint).</summary>
    PolicyViolation,

    /// <summary>The issuance database failed to record something.</summary>
    StorageFailed,

    /// <summary>The actor may not do this (a role or an ownership rule refuses it).</summary>
    Forbidden,
}
