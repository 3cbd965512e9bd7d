using System.Globalization;
using System.Text;

namespace MiniCa.Core.Requests;

/// <summary>
/// Text taken from a request (its subject, a reason that quotes one of its names) before it is stored, logged or
/// shown: every control character (a NUL, a line feed, DEL, C1) becomes its UTF-8 octets, each written as a
/// backslash and two hex digits, as RFC 4514 §2.4 escapes a distinguished name's characters. PostgreSQL's text
/// cannot hold a NUL (the statement was refused, which read as a database outage), and a line feed would split a
/// log line.
/// </summary>
public static class ControlCharacters
{
    /// <summary><paramref name="text"/> with its control characters escaped; the same string when it has none.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (!char.IsControl(c))
            {
                escaped.Append(c);
                continue;
            }

            foreach (var octet in Encoding.UTF8.GetBytes([c]))
            {
                escaped.Append('\\').Append(octet.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return escaped.ToString();
    }
}
