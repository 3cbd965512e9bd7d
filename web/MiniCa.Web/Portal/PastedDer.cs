using System.Text;
using MiniCa.Core.Errors;

namespace MiniCa.Web.Portal;

/// <summary>What a person pastes or a JSON string carries for a certificate, CSR or key: PEM text, or base64 of DER.</summary>
internal static class PastedDer
{
    /// <summary>The bytes of <paramref name="value"/>: PEM text as it is, base64 of DER decoded; <paramref name="error"/> when it is neither.</summary>
    public static byte[] Bytes(string value, string error)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        if (text.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            return Encoding.ASCII.GetBytes(text);
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new CaException(CaErrorKind.Malformed, error);
        }
    }
}
