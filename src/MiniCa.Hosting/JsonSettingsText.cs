using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MiniCa.Hosting;

/// <summary>
/// Settings of a JSON configuration file read and changed in its text, so that everything else in the file (the
/// operator's comments, the order of the settings, the layout) stays as written. A setting is a path of member
/// names, matched in any case as configuration keys are (<c>["Database", "ConnectionString"]</c>). Comments and
/// trailing commas are allowed, as the CA's configuration loader allows them.
/// </summary>
public sealed class JsonSettingsText
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly JsonSerializerOptions ListOptions = new() { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly JsonSerializerOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private byte[] _utf8;

    /// <exception cref="JsonException">The text is not JSON, or its top level is not an object.</exception>
    public JsonSettingsText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _utf8 = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(_utf8, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("the top level is not a JSON object");
        }

        reader.Skip();
        if (reader.Read())
        {
            throw new JsonException($"there is more after the top-level object (at byte {reader.TokenStartIndex})");
        }
    }

    /// <summary>The text, with the changes made so far.</summary>
    public string Text => Encoding.UTF8.GetString(_utf8);

    /// <summary>The string at <paramref name="path"/>; <see langword="null"/> when it is absent or not a string.</summary>
    public string? GetString(params string[] path)
    {
        var found = Locate(path);
        if (found.Member is not { } member)
        {
            return null;
        }

        var reader = new Utf8JsonReader(_utf8.AsSpan(member.ValueStart, member.ValueEnd - member.ValueStart), ReaderOptions);
        return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }

    /// <summary>
    /// Sets <paramref name="path"/> to the string <paramref name="value"/>: its value replaced where it is (under its
    /// spelling in the file), or the member added after the last one of the object that should hold it (creating the
    /// objects on the way). Returns false when it already had that value.
    /// </summary>
    /// <exception cref="JsonException">A member on the way holds something other than an object.</exception>
    public bool SetString(string[] path, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return GetString(path) != value && SetEncoded(path, JsonSerializer.Serialize(value, WriterOptions));
    }

    /// <summary>The strings of the array at <paramref name="path"/>; <see langword="null"/> when it is absent or not an array of strings.</summary>
    public IReadOnlyList<string>? GetStrings(params string[] path)
    {
        if (Locate(path).Member is not { } member)
        {
            return null;
        }

        try
        {
            var value = JsonSerializer.Deserialize<List<string>>(_utf8.AsSpan(member.ValueStart, member.ValueEnd - member.ValueStart), ListOptions);
            return value is null || value.Contains(null!) ? null : value;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sets <paramref name="path"/> to an array of the strings <paramref name="values"/> (on one line), replacing its
    /// value where it is or adding the member as <see cref="SetString"/> does. Returns false when it already held them.
    /// </summary>
    /// <exception cref="JsonException">A member on the way holds something other than an object.</exception>
    public bool SetStrings(string[] path, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (GetStrings(path) is { } current && current.SequenceEqual(values, StringComparer.Ordinal))
        {
            return false;
        }

        var encoded = values.Count == 0 ? "[]" : "[ " + string.Join(", ", values.Select(v => JsonSerializer.Serialize(v, WriterOptions))) + " ]";
        return SetEncoded(path, encoded);
    }

    private bool SetEncoded(string[] path, string encoded)
    {
        var found = Locate(path);
        if (found.Member is { } member)
        {
            Splice(member.ValueStart, member.ValueEnd, encoded);
            return true;
        }

        // The members not found yet, nested: "A": { "B": "value" }.
        var added = encoded;
        for (var i = path.Length - 1; i > found.Depth; i--)
        {
            added = $"{{ {JsonSerializer.Serialize(path[i], WriterOptions)}: {added} }}";
        }

        added = $"{JsonSerializer.Serialize(path[found.Depth], WriterOptions)}: {added}";
        var parent = found.Parent;
        if (parent.LastValueEnd < 0)
        {
            // An empty object: inside its braces.
            Splice(parent.Start + 1, parent.Start + 1, $" {added} ");
            return true;
        }

        // After the last member. When it ends its line (a comment may follow), the new one goes on the next line with
        // the same indentation; otherwise on the same line.
        var at = parent.LastValueEnd;
        var comma = SkipBlanks(at);
        var hasComma = comma < _utf8.Length && _utf8[comma] == (byte)',';
        var lineEnd = SkipBlanks(hasComma ? comma + 1 : at);
        if (lineEnd + 1 < _utf8.Length && _utf8[lineEnd] == (byte)'/' && _utf8[lineEnd + 1] == (byte)'/')
        {
            while (lineEnd < _utf8.Length && _utf8[lineEnd] != (byte)'\n')
            {
                lineEnd++;
            }
        }

        if (lineEnd + 1 < _utf8.Length && _utf8[lineEnd] == (byte)'\r' && _utf8[lineEnd + 1] == (byte)'\n')
        {
            lineEnd++;
        }

        if (lineEnd < _utf8.Length && _utf8[lineEnd] == (byte)'\n')
        {
            var lineBreak = lineEnd > 0 && _utf8[lineEnd - 1] == (byte)'\r' ? "\r\n" : "\n";
            Splice(lineEnd + 1, lineEnd + 1, $"{Indentation(parent.LastNameStart)}{added}{(hasComma ? "," : string.Empty)}{lineBreak}");
            if (!hasComma)
            {
                Splice(at, at, ",");
            }
        }
        else
        {
            Splice(at, hasComma ? comma + 1 : at, $", {added}{(hasComma ? "," : string.Empty)}");
        }

        return true;
    }

    /// <summary>
    /// Removes the member at <paramref name="path"/> with the comma that separated it (and its line, when it had one
    /// of its own). Returns false when it is absent.
    /// </summary>
    public bool Remove(params string[] path)
    {
        if (Locate(path).Member is not { } member)
        {
            return false;
        }

        int start;
        int end;
        var separator = -1;
        var next = SkipSpace(member.ValueEnd);
        if (next < _utf8.Length && _utf8[next] == (byte)',')
        {
            (start, end) = (member.NameStart, next + 1);
        }
        else if (member.PreviousValueEnd >= 0)
        {
            // The last member: the comma before it goes, with what lies between on the same line; a comment or a
            // line break between belongs to the member before, and stays.
            var comma = SkipSpace(member.PreviousValueEnd);
            var between = _utf8.AsSpan(comma, member.NameStart - comma);
            (start, end) = between.IndexOfAny((byte)'/', (byte)'\n') < 0 ? (comma, member.ValueEnd) : (member.NameStart, member.ValueEnd);
            separator = start == comma ? -1 : comma;
        }
        else
        {
            (start, end) = (member.NameStart, member.ValueEnd);
        }

        // A comment after it on its line goes with it; so do the blanks after its comma.
        var after = SkipBlanks(end);
        if (after + 1 < _utf8.Length && _utf8[after] == (byte)'/' && _utf8[after + 1] == (byte)'/')
        {
            var newline = Array.IndexOf(_utf8, (byte)'\n', after);
            end = newline < 0 ? _utf8.Length : newline > 0 && _utf8[newline - 1] == (byte)'\r' ? newline - 1 : newline;
        }
        else if (start == member.NameStart && end > member.ValueEnd)
        {
            end = after;
        }

        // A member that had its line to itself takes the line with it.
        var lineStart = start;
        while (lineStart > 0 && _utf8[lineStart - 1] is (byte)' ' or (byte)'\t')
        {
            lineStart--;
        }

        var lineEnd = SkipBlanks(end);
        if ((lineStart == 0 || _utf8[lineStart - 1] == (byte)'\n') && lineEnd < _utf8.Length && _utf8[lineEnd] is (byte)'\n' or (byte)'\r')
        {
            start = lineStart;
            end = _utf8[lineEnd] == (byte)'\r' && lineEnd + 1 < _utf8.Length && _utf8[lineEnd + 1] == (byte)'\n' ? lineEnd + 2 : lineEnd + 1;
        }

        Splice(start, end, string.Empty);
        if (separator >= 0)
        {
            Splice(separator, separator + 1, string.Empty);
        }

        return true;
    }

    private void Splice(int start, int end, string replacement)
    {
        var bytes = Encoding.UTF8.GetBytes(replacement);
        var result = new byte[_utf8.Length - (end - start) + bytes.Length];
        _utf8.AsSpan(0, start).CopyTo(result);
        bytes.CopyTo(result.AsSpan(start));
        _utf8.AsSpan(end).CopyTo(result.AsSpan(start + bytes.Length));
        _utf8 = result;
    }

    /// <summary>The spaces and tabs that open the line of <paramref name="position"/>, when only they precede it; else one space.</summary>
    private string Indentation(int position)
    {
        var start = position;
        while (start > 0 && _utf8[start - 1] is (byte)' ' or (byte)'\t')
        {
            start--;
        }

        return start == 0 || _utf8[start - 1] == (byte)'\n' ? Encoding.UTF8.GetString(_utf8, start, position - start) : " ";
    }

    /// <summary>The first position at or after <paramref name="position"/> that is not a space or a tab.</summary>
    private int SkipBlanks(int position)
    {
        while (position < _utf8.Length && _utf8[position] is (byte)' ' or (byte)'\t')
        {
            position++;
        }

        return position;
    }

    /// <summary>The first position at or after <paramref name="position"/> that is neither white space nor inside a comment.</summary>
    private int SkipSpace(int position)
    {
        while (position < _utf8.Length)
        {
            if (_utf8[position] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                position++;
            }
            else if (position + 1 < _utf8.Length && _utf8[position] == (byte)'/' && _utf8[position + 1] == (byte)'/')
            {
                var end = Array.IndexOf(_utf8, (byte)'\n', position);
                position = end < 0 ? _utf8.Length : end + 1;
            }
            else if (position + 1 < _utf8.Length && _utf8[position] == (byte)'/' && _utf8[position + 1] == (byte)'*')
            {
                var end = _utf8.AsSpan(position + 2).IndexOf("*/"u8);
                position = end < 0 ? _utf8.Length : position + 2 + end + 2;
            }
            else
            {
                break;
            }
        }

        return position;
    }

    /// <summary>
    /// Follows <paramref name="path"/> from the top-level object: the member at its end when there, else how deep it
    /// got (<see cref="Located.Depth"/>: the index of the first name not found) and the object that holds that level.
    /// </summary>
    private Located Locate(string[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new ArgumentException("A setting's path names at least one member.", nameof(path));
        }

        var reader = new Utf8JsonReader(_utf8, ReaderOptions);
        reader.Read();
        var objectStart = (int)reader.TokenStartIndex;
        for (var depth = 0; ; depth++)
        {
            var previousValueEnd = -1;
            var lastNameStart = -1;
            Member? match = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                var matches = string.Equals(reader.GetString(), path[depth], StringComparison.OrdinalIgnoreCase);
                reader.Read();
                var valueStart = (int)reader.TokenStartIndex;
                if (matches && reader.TokenType == JsonTokenType.StartObject && depth < path.Length - 1)
                {
                    match = new Member(nameStart, valueStart, -1, previousValueEnd);
                    break;
                }

                reader.Skip();
                var valueEnd = (int)reader.BytesConsumed;
                if (matches)
                {
                    if (depth < path.Length - 1)
                    {
                        throw new JsonException($"{string.Join(':', path[..(depth + 1)])} holds a value, not an object of settings");
                    }

                    return new Located(new Member(nameStart, valueStart, valueEnd, previousValueEnd), depth, default);
                }

                previousValueEnd = valueEnd;
                lastNameStart = nameStart;
            }

            if (match is not { } inner)
            {
                return new Located(null, depth, new Parent(objectStart, previousValueEnd, lastNameStart));
            }

            objectStart = inner.ValueStart;
        }
    }

    private readonly record struct Member(int NameStart, int ValueStart, int ValueEnd, int PreviousValueEnd);

    /// <param name="Start">The object's opening brace.</param>
    /// <param name="LastValueEnd">The end of its last member's value; -1 when it has none.</param>
    /// <param name="LastNameStart">The start of its last member's name.</param>
    private readonly record struct Parent(int Start, int LastValueEnd, int LastNameStart);

    private readonly record struct Located(Member? Member, int Depth, Parent Parent);
}
