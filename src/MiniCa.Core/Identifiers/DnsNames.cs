using System.Globalization;

namespace MiniCa.Core.Identifiers;

/// <summary>
/// DNS name rules for certificates: preferred name syntax (RFC 1034 §3.5, RFC 1123 §2.1) — letters, digits and
/// hyphens, labels of 1..63 octets, names of at most 253 — IDNA A-labels that decode (RFC 5890 §2.3.2.1), no
/// trailing dot, and a wildcard only as the whole left-most label (BR §7.1.4.2.1, RFC 6125 §6.4.3).
/// </summary>
public static class DnsNames
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    /// <summary>
    /// Top-level domains that are not delegated in the public DNS, so names under them are internal names
    /// (BR §1.6.1 "Internal Name"): RFC 2606/6761 special-use names and common private conventions.
    /// </summary>
    private static readonly HashSet<string> InternalTopLevelDomains = new(StringComparer.Ordinal)
    {
        "local", "localhost", "internal", "intranet", "lan", "home", "corp", "private", "localdomain",
        "test", "example", "invalid", "home.arpa", "onion", "alt",
    };

    /// <summary>Every syntax problem of <paramref name="name"/>; empty when it is a valid certificate DNS name.</summary>
    public static IReadOnlyList<string> Validate(string name, bool allowWildcard)
    {
        ArgumentNullException.ThrowIfNull(name);
        var problems = new List<string>();
        if (name.Length == 0)
        {
            problems.Add("is empty");
            return problems;
        }

        if (name.EndsWith('.'))
        {
            problems.Add("ends with a dot (certificates carry names without the root label)");
            return problems;
        }

        if (name.Length > 253)
        {
            problems.Add($"is {name.Length} characters long (at most 253, RFC 1034 §3.1)");
        }

        var labels = name.Split('.');
        for (var i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            if (label == "*")
            {
                if (i != 0)
                {
                    problems.Add("has a wildcard that is not the whole left-most label");
                }
                else if (!allowWildcard)
                {
                    problems.Add("is a wildcard name");
                }
                else if (labels.Length < 3)
                {
                    // *.com or *.internal would cover a whole top-level domain.
                    problems.Add("is a wildcard directly below a top-level domain");
                }

                continue;
            }

            if (label.Length == 0)
            {
                problems.Add("has an empty label");
                continue;
            }

            if (label.Length > 63)
            {
                problems.Add($"has a label of {label.Length} characters (at most 63, RFC 1034 §3.1)");
            }

            if (label.Contains('*', StringComparison.Ordinal))
            {
                problems.Add("has a wildcard that is not the whole left-most label");
                continue;
            }

            if (label.Contains('_', StringComparison.Ordinal))
            {
                problems.Add($"label '{label}' contains an underscore (BR §7.1.4.2.1)");
                continue;
            }

            if (!label.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-'))
            {
                problems.Add($"label '{label}' has characters other than letters, digits and '-' (IDNs must be given as xn-- A-labels)");
                continue;
            }

            if (label.StartsWith('-') || label.EndsWith('-'))
            {
                problems.Add($"label '{label}' starts or ends with a hyphen");
                continue;
            }

            if (label.Length >= 4 && label[2] == '-' && label[3] == '-')
            {
                if (!label.StartsWith("xn--", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"label '{label}' has hyphens in the third and fourth positions but is not an xn-- A-label (RFC 5891 §4.2.3.1)");
                }
                else if (!IsValidALabel(label))
                {
                    problems.Add($"label '{label}' is not a valid IDNA A-label");
                }
            }
        }

        if (labels.Length > 0 && labels[^1].All(char.IsAsciiDigit) && labels[^1].Length > 0)
        {
            problems.Add("has an all-numeric top-level label (an IP address belongs in an iPAddress name)");
        }

        return problems;
    }

    /// <summary>Whether <paramref name="name"/> is an internal name (one label, or an undelegated top-level domain).</summary>
    public static bool IsInternal(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var labels = name.ToLowerInvariant().Split('.');
        if (labels.Length == 1 || (labels.Length == 2 && labels[0] == "*"))
        {
            return true;
        }

        var tld = labels[^1];
        var lastTwo = labels.Length >= 2 ? $"{labels[^2]}.{labels[^1]}" : tld;
        return InternalTopLevelDomains.Contains(tld) || InternalTopLevelDomains.Contains(lastTwo);
    }

    private static bool IsValidALabel(string label)
    {
        try
        {
            var unicode = Idn.GetUnicode(label);
            // A-label round trip: decoding then encoding gives the label back (RFC 5891 §5.4).
            return string.Equals(Idn.GetAscii(unicode), label, StringComparison.OrdinalIgnoreCase) && unicode != label;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
