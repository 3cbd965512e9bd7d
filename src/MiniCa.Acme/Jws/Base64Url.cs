namespace MiniCa.Acme.Jws;

/// <summary>RFC 4648 §5 base64url without padding, strictly (RFC 7515 §2).</summary>
internal static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Decodes, or throws <see cref="AcmeException"/> (<c>malformed</c>) naming <paramref name="what"/>.</summary>
    public static byte[] Decode(string? text, string what)
    {
        if (text is null || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) || text.Length % 4 == 1)
        {
            throw new AcmeException("malformed", $"{what} is not base64url without padding.");
        }

        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", _ => string.Empty };
        return Convert.FromBase64String(padded);
    }
}
