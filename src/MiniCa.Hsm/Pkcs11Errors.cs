using MiniCa.Core.Errors;
using Net.Pkcs11Interop.Common;

namespace MiniCa.Hsm;

/// <summary>Turns PKCS#11 return values into errors a person can act on.</summary>
internal static class Pkcs11Errors
{
    /// <summary>Return values after which a fresh session, a re-login or a fresh key lookup may succeed.</summary>
    internal static bool IsRecoverable(CKR rv) => rv is CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED
        or CKR.CKR_USER_NOT_LOGGED_IN or CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID or CKR.CKR_DEVICE_ERROR;

    /// <summary>
    /// Return values that say the token itself failed (after the member's own recovery was tried), so a cluster
    /// moves the operation to another member.
    /// </summary>
    internal static bool IsMemberFailure(CKR rv) => rv is CKR.CKR_DEVICE_ERROR or CKR.CKR_DEVICE_REMOVED or CKR.CKR_TOKEN_NOT_PRESENT
        or CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED or CKR.CKR_GENERAL_ERROR
        or CKR.CKR_DEVICE_MEMORY or CKR.CKR_CRYPTOKI_NOT_INITIALIZED or CKR.CKR_SLOT_ID_INVALID
        or CKR.CKR_TOKEN_NOT_RECOGNIZED or CKR.CKR_FUNCTION_FAILED;

    internal static CaException Map(Pkcs11Exception ex, string member, string token, string action) => ex.RV switch
    {
        CKR.CKR_PIN_INCORRECT => new CaException(
            CaErrorKind.HsmPinIncorrect,
            $"HSM member '{member}': token '{token}' refused the user PIN (CKR_PIN_INCORRECT). Check the member's PinSource.",
            ex),
        CKR.CKR_PIN_LOCKED => new CaException(
            CaErrorKind.HsmPinIncorrect,
            $"HSM member '{member}': the user PIN of token '{token}' is locked (CKR_PIN_LOCKED); the security officer must reset it.",
            ex),
        CKR.CKR_PIN_EXPIRED => new CaException(
            CaErrorKind.HsmPinIncorrect,
            $"HSM member '{member}': the user PIN of token '{token}' has expired (CKR_PIN_EXPIRED).",
            ex),
        CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_DEVICE_REMOVED => new CaException(
            CaErrorKind.HsmTokenNotFound,
            $"HSM member '{member}': token '{token}' is no longer present ({ex.RV}) while trying to {action}.",
            ex),
        CKR.CKR_MECHANISM_INVALID or CKR.CKR_MECHANISM_PARAM_INVALID => new CaException(
            CaErrorKind.HsmOperationFailed,
            $"HSM member '{member}': token '{token}' does not support the mechanism needed to {action} ({ex.RV}).",
            ex),
        _ => new CaException(
            CaErrorKind.HsmOperationFailed,
            $"HSM member '{member}': token '{token}' failed to {action} ({ex.RV}).",
            ex),
    };
}
