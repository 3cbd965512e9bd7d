namespace MiniCa.Core.Identifiers;

/// <summary>
/// Allow/deny patterns for DNS names and email domains: <c>*</c> matches every name, <c>example.com</c> exactly
/// that name, <c>*.example.com</c> every name below it (at any depth). A requested wildcard
/// (<c>*.app.example.com</c>) is matched as written, so it needs a pattern that covers it.
/// </summary>
public static class NamePattern
{
    /// <summary>Whether <paramref name="pattern"/> is well formed.</summary>
    public static bool IsValid(string pattern)
    {
        if (pattern == "*")
        {
            return true;
        }

        var name = pattern.StartsWith("*.", StringComparison.Ordinal) ? pattern[2..] : pattern;
        return DnsNames.Validate(name, allowWildcard: false).Count == 0;
    }

    /// <summary>Whether <paramref name="name"/> (lowercase) matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string pattern, string name)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(name);
        if (pattern == "*")
        {
            return true;
        }

        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = pattern[1..].ToLowerInvariant();
            return name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length;
        }

        return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Allowed when some allow pattern matches and no deny pattern does (deny wins).</summary>
    public static bool IsAllowed(IEnumerable<string> allow, IEnumerable<string> deny, string name) =>
        allow.Any(p => Matches(p, name)) && !deny.Any(p => Matches(p, name));
}
