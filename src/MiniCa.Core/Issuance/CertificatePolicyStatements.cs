using System.Text.RegularExpressions;
using MiniCa.Core.Requests;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Issuance;

/// <summary>
/// One certificate policy a certificate asserts (RFC 5280 §4.2.1.4): its OID and, optionally, where its
/// Certification Practice Statement is published and a short notice for relying parties. Used by a profile's
/// <c>certificatePolicies</c> and by an authority's <c>CertificatePolicies</c>.
/// </summary>
public sealed class CertificatePolicyEntry
{
    /// <summary>The policy's OID in dotted form (e.g. <c>1.3.6.1.4.1.55555.1.1</c>); <c>anyPolicy</c> for a CA that passes every policy on.</summary>
    public string Oid { get; set; } = string.Empty;

    /// <summary>An http(s) URL of the Certification Practice Statement (qualifier id-qt-cps); optional.</summary>
    public string? Cps { get; set; }

    /// <summary>A notice shown to relying parties (qualifier id-qt-unotice, explicitText as UTF8String); optional, at most 200 characters.</summary>
    public string? Notice { get; set; }
}

/// <summary>
/// The certificatePolicies extension (RFC 5280 §4.2.1.4): checking the entries a profile or an authority names,
/// encoding them, and reading them back from a certificate for the lints.
/// </summary>
public static partial class CertificatePolicyStatements
{
    /// <summary>anyPolicy (RFC 5280 §4.2.1.4), 2.5.29.32.0.</summary>
    public const string AnyPolicy = "2.5.29.32.0";

    /// <summary>The explicitText limit of RFC 5280 §4.2.1.4.</summary>
    public const int MaxNoticeLength = 200;

    /// <summary>The most entries one extension takes; bounds what relying parties must process.</summary>
    public const int MaxEntries = 20;

    private static readonly DerObjectIdentifier CpsQualifier = new("1.3.6.1.5.5.7.2.1");
    private static readonly DerObjectIdentifier NoticeQualifier = new("1.3.6.1.5.5.7.2.2");

    [GeneratedRegex(@"^[0-2](\.(0|[1-9][0-9]{0,17}))+$", RegexOptions.CultureInvariant)]
    private static partial Regex DottedOid();

    /// <summary>The dotted OID of <paramref name="oid"/>: <c>anyPolicy</c> is <see cref="AnyPolicy"/>.</summary>
    public static string Dotted(string oid) => string.Equals(oid, "anyPolicy", StringComparison.Ordinal) ? AnyPolicy : oid;

    /// <summary>
    /// Every problem of <paramref name="entries"/> (the list <paramref name="where"/> names), each naming the entry's
    /// field as <paramref name="field"/> writes it (index, field name or <see langword="null"/> for the entry).
    /// <paramref name="forCa"/> allows anyPolicy (a CA passing every policy on, RFC 5280 §4.2.1.4); a subscriber
    /// certificate never asserts it (BR §7.1.2.7.9).
    /// </summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<CertificatePolicyEntry?> entries, string where, Func<int, string?, string> field, bool forCa)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(entries);
        var problems = new List<string>();
        if (entries.Count > MaxEntries)
        {
            problems.Add($"{where}: {entries.Count} policies; at most {MaxEntries}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is not { } entry)
            {
                problems.Add($"{field(i, null)}: is empty; give an object with an oid");
                continue;
            }

            var oid = Dotted(entry.Oid ?? string.Empty);
            if (OidProblem(oid) is { } problem)
            {
                problems.Add($"{field(i, "oid")}: '{ControlCharacters.Escape(entry.Oid ?? string.Empty)}' {problem}");
            }
            else if (oid == AnyPolicy && !forCa)
            {
                problems.Add($"{field(i, "oid")}: anyPolicy is for CA certificates; a subscriber certificate asserts the policies it was issued under (BR §7.1.2.7.9)");
            }
            else if (!seen.Add(oid))
            {
                problems.Add($"{field(i, "oid")}: {oid} is listed twice; a policy appears at most once (RFC 5280 §4.2.1.4)");
            }

            if (entry.Cps is { } cps && CpsProblem(cps) is { } cpsProblem)
            {
                problems.Add($"{field(i, "cps")}: '{ControlCharacters.Escape(cps)}' {cpsProblem}");
            }

            if (entry.Notice is { } notice)
            {
                if (notice.Length is 0 or > MaxNoticeLength)
                {
                    problems.Add($"{field(i, "notice")}: {notice.Length} characters; an explicitText has 1..{MaxNoticeLength} (RFC 5280 §4.2.1.4)");
                }
                else if (notice.Any(char.IsControl))
                {
                    problems.Add($"{field(i, "notice")}: '{ControlCharacters.Escape(notice)}' holds a control character, which an explicitText should not (RFC 6818 §3)");
                }
            }
        }

        return problems;
    }

    private static string? OidProblem(string oid)
    {
        if (!DottedOid().IsMatch(oid))
        {
            return "is not a dotted OID such as 1.3.6.1.4.1.55555.1.1 (or anyPolicy)";
        }

        var arcs = oid.Split('.');
        // X.660: under the arcs 0 and 1 the second arc is at most 39.
        return arcs[0] != "2" && long.Parse(arcs[1], System.Globalization.CultureInfo.InvariantCulture) > 39
            ? "is not an OID: under 0 and 1 the second arc is at most 39 (X.660)"
            : null;
    }

    private static string? CpsProblem(string cps)
    {
        // The CPS pointer is an IA5String URI (RFC 5280 §4.2.1.4); BR §7.1.2.7.9 asks for an HTTP or HTTPS URL.
        if (cps.Any(c => c is <= ' ' or > '~'))
        {
            return "must be an http or https URL of printable ASCII without spaces (an IA5String, RFC 5280 §4.2.1.4)";
        }

        return Uri.TryCreate(cps, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0
            ? null
            : "is not an http or https URL (BR §7.1.2.7.9)";
    }

    /// <summary>The extension's value for <paramref name="entries"/>, in their order; <see langword="null"/> when there are none.</summary>
    /// <exception cref="FormatException">An entry has a problem (<see cref="Problems"/> says which).</exception>
    public static Asn1Encodable? Build(IReadOnlyList<CertificatePolicyEntry>? entries)
    {
        if (entries is null || entries.Count == 0)
        {
            return null;
        }

        var information = new List<Asn1Encodable>();
        foreach (var entry in entries)
        {
            var oid = Dotted(entry.Oid);
            if (OidProblem(oid) is { } problem)
            {
                throw new FormatException($"'{entry.Oid}' {problem}");
            }

            var qualifiers = new List<Asn1Encodable>();
            if (entry.Cps is { } cps)
            {
                qualifiers.Add(new DerSequence(CpsQualifier, new DerIA5String(cps, true)));
            }

            if (entry.Notice is { } notice)
            {
                // RFC 6818 §3: explicitText SHOULD be a UTF8String, never an IA5String. Encoded here, not by
                // BouncyCastle's DisplayText, which shortens a longer text to 200 characters without a word.
                qualifiers.Add(new DerSequence(NoticeQualifier, new DerSequence(new DerUtf8String(notice))));
            }

            information.Add(qualifiers.Count == 0
                ? new DerSequence(new DerObjectIdentifier(oid))
                : new DerSequence(new DerObjectIdentifier(oid), new DerSequence(qualifiers.ToArray())));
        }

        return new DerSequence(information.ToArray());
    }

    /// <summary>One policy as a certificate carries it.</summary>
    /// <param name="Oid">The policy's dotted OID.</param>
    /// <param name="Cps">The CPS pointers (IA5String values, as written).</param>
    /// <param name="ExplicitTexts">The user notices' explicitText, each with its ASN.1 string type.</param>
    public sealed record Statement(string Oid, IReadOnlyList<string> Cps, IReadOnlyList<(string Text, Type Encoding)> ExplicitTexts);

    /// <summary>
    /// The policies in a certificatePolicies extension value, in order (RFC 5280 §4.2.1.4 syntax).
    /// </summary>
    /// <exception cref="ArgumentException">The value is not a certificatePolicies structure.</exception>
    public static IReadOnlyList<Statement> Read(Asn1Encodable extensionValue)
    {
        ArgumentNullException.ThrowIfNull(extensionValue);
        var statements = new List<Statement>();
        foreach (var item in Asn1Sequence.GetInstance(extensionValue))
        {
            var information = Asn1Sequence.GetInstance(item);
            var oid = DerObjectIdentifier.GetInstance(information[0]).Id;
            var cps = new List<string>();
            var texts = new List<(string, Type)>();
            if (information.Count > 1)
            {
                foreach (var qualifierItem in Asn1Sequence.GetInstance(information[1]))
                {
                    var qualifier = Asn1Sequence.GetInstance(qualifierItem);
                    var id = DerObjectIdentifier.GetInstance(qualifier[0]);
                    if (id.Equals(CpsQualifier) && qualifier.Count > 1 && qualifier[1] is IAsn1String pointer)
                    {
                        cps.Add(pointer.GetString());
                    }
                    else if (id.Equals(NoticeQualifier) && qualifier.Count > 1)
                    {
                        // UserNotice ::= SEQUENCE { noticeRef NoticeReference OPTIONAL, explicitText DisplayText OPTIONAL }
                        foreach (var part in Asn1Sequence.GetInstance(qualifier[1]))
                        {
                            if (part is IAsn1String text)
                            {
                                texts.Add((text.GetString(), part.GetType()));
                            }
                        }
                    }
                }
            }

            statements.Add(new Statement(oid, cps, texts));
        }

        return statements;
    }

    /// <summary>The policies a certificate asserts; empty when it has no certificatePolicies extension.</summary>
    public static IReadOnlyList<Statement> Of(Org.BouncyCastle.X509.X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetExtensionValue(X509Extensions.CertificatePolicies) is { } value
            ? Read(Asn1Object.FromByteArray(value.GetOctets()))
            : [];
    }

    /// <summary>
    /// Which of <paramref name="oids"/> a certificate path through a CA whose certificate asserts
    /// <paramref name="caPolicies"/> cannot carry (RFC 5280 §6.1.3 (d): a policy the CA neither asserts nor covers
    /// with anyPolicy leaves the valid policy tree); all of them when the CA asserts none (§6.1.3 (e)).
    /// </summary>
    public static IReadOnlyList<string> NotConveyed(IEnumerable<string> oids, IReadOnlyList<Statement> caPolicies)
    {
        ArgumentNullException.ThrowIfNull(oids);
        ArgumentNullException.ThrowIfNull(caPolicies);
        if (caPolicies.Any(p => p.Oid == AnyPolicy))
        {
            return [];
        }

        var asserted = caPolicies.Select(p => p.Oid).ToHashSet(StringComparer.Ordinal);
        return oids.Where(o => !asserted.Contains(o)).ToList();
    }
}
