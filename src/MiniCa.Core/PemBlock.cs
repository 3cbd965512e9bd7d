namespace MiniCa.Core;

/// <summary>
/// The first PEM block (RFC 7468) of a text, found one way wherever MiniCa reads PEM it was handed (CSRs, key files):
/// its label and its base64 body. Callers word their own messages.
/// </summary>
/// <param name="Label">The label of the BEGIN line; empty when that line never ends in dashes.</param>
/// <param name="Body">The base64 text up to the END line; <see langword="null"/> when there is none.</param>
internal sealed record PemBlock(string Label, string? Body)
{
    /// <summary>The first block of <paramref name="text"/>, or <see langword="null"/> when it has no BEGIN line.</summary>
    public static PemBlock? Find(string text)
    {
        var begin = text.IndexOf("-----BEGIN ", StringComparison.Ordinal);
        if (begin < 0)
        {
            return null;
        }

        // The label ends on the BEGIN line: dashes found only on a later line (the END line's, say) do not end it.
        var labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
        if (labelEnd < 0 || text.AsSpan(begin + 11, labelEnd - begin - 11).ContainsAny('\r', '\n'))
        {
            return new PemBlock(string.Empty, null);
        }

        var end = text.IndexOf("-----END ", labelEnd + 5, StringComparison.Ordinal);
        return new PemBlock(text[(begin + 11)..labelEnd], end < 0 ? null : text[(labelEnd + 5)..end]);
    }

    /// <summary>The DER bytes of the body, or <see langword="null"/> when there is no body or it is not base64.</summary>
    public byte[]? Decode()
    {
        try
        {
            return Body is null ? null : Convert.FromBase64String(Body);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
