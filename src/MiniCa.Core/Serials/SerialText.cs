namespace MiniCa.Core.Serials;

/// <summary>Serial numbers as people type them (colons, spaces, 0x, upper case, leading zeros) and as they are stored.</summary>
public static class SerialText
{
    /// <summary>Lowercase hex without separators or leading zeros, or <see langword="null"/> when the text is no serial (RFC 5280 §4.1.2.2: at most 20 octets).</summary>
    public static string? Normalize(string? serial)
    {
        var hex = (serial ?? string.Empty).Replace(":", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal).Trim().ToLowerInvariant();
        if (hex.StartsWith("0x", StringComparison.Ordinal))
        {
            hex = hex[2..];
        }

        hex = hex.TrimStart('0');
        return hex.Length is > 0 and <= 40 && hex.All(char.IsAsciiHexDigit) ? hex : null;
    }
}
