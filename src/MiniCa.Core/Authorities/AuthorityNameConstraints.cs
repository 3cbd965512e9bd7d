using System.Net;
using MiniCa.Core.Configuration;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Requests;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Pkix;

namespace MiniCa.Core.Authorities;

/// <summary>
/// The nameConstraints of a subordinate CA's certificate (RFC 5280 §4.2.1.10), from its configuration's
/// <c>NameConstraints</c>: permitted and excluded subtrees written as <c>dns:corp.example.com</c> (the name and every
/// name under it), <c>ip:10.0.0.0/8</c> (a CIDR block, IPv4 or IPv6) and <c>email:example.com</c> (every mailbox at
/// that host), <c>email:.example.com</c> (at any host under it) or <c>email:pki@example.com</c> (that mailbox), and
/// <c>uri:example.org</c> (every URI whose host is that one, e.g. a SPIFFE ID) or <c>uri:.example.org</c> (any host
/// under it). A
/// relying party refuses a certificate under the CA whose names leave them, so a compromised or misused issuing CA
/// cannot certify names outside them; MiniCa's linter refuses to sign such a certificate in the first place.
/// </summary>
public static class AuthorityNameConstraints
{
    private const string Dns = "dns:";
    private const string Ip = "ip:";
    private const string Email = "email:";
    private const string UriType = "uri:";

    /// <summary>Every entry of <paramref name="options"/> that is not a subtree, each naming <paramref name="key"/> and the entry.</summary>
    public static IReadOnlyList<string> Problems(NameConstraintsOptions options, string key)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        foreach (var (list, entries) in new[] { ("Permitted", options.Permitted), ("Excluded", options.Excluded) })
        {
            for (var i = 0; i < entries.Count; i++)
            {
                if (Problem(entries[i]) is { } problem)
                {
                    problems.Add($"{key}:{list}:{i}: '{ControlCharacters.Escape(entries[i] ?? string.Empty)}' {problem}.");
                }
            }
        }

        if (options.Permitted.Count == 0 && options.Excluded.Count == 0)
        {
            problems.Add($"{key}: names no subtree; give Permitted or Excluded entries (dns:NAME, ip:CIDR, email:HOST, uri:HOST), or leave the key out.");
        }

        return problems;
    }

    /// <summary>The extension's value for <paramref name="options"/>; <see langword="null"/> when there are none.</summary>
    /// <exception cref="FormatException">An entry is not a subtree (<see cref="Problems"/> says which).</exception>
    public static NameConstraints? Build(NameConstraintsOptions? options)
    {
        if (options is null || (options.Permitted.Count == 0 && options.Excluded.Count == 0))
        {
            return null;
        }

        static GeneralSubtrees? Subtrees(List<string> entries) => entries.Count == 0
            ? null
            : GeneralSubtrees.GetInstance(new DerSequence(entries.Select(e => (Asn1Encodable)new GeneralSubtree(Name(e) ?? throw new FormatException($"'{e}' {Problem(e)}"))).ToArray()));
        return new NameConstraints(Subtrees(options.Permitted), Subtrees(options.Excluded));
    }

    /// <summary>
    /// Why <paramref name="name"/> (a subjectAltName entry) leaves the nameConstraints whose DER value is
    /// <paramref name="extensionValue"/>; <see langword="null"/> when it is within them or of a type they do not
    /// constrain (RFC 5280 §4.2.1.10: the subtrees constrain only names of their own type). BouncyCastle's PKIX
    /// validator decides; this names the subtrees.
    /// </summary>
    public static string? Violation(byte[] extensionValue, GeneralName name)
    {
        ArgumentNullException.ThrowIfNull(extensionValue);
        ArgumentNullException.ThrowIfNull(name);
        Asn1Sequence? permitted = null;
        Asn1Sequence? excluded = null;
        foreach (var part in Asn1Sequence.GetInstance(extensionValue))
        {
            var tagged = Asn1TaggedObject.GetInstance(part);
            if (tagged.TagNo == 0)
            {
                permitted = Asn1Sequence.GetInstance(tagged, false);
            }
            else if (tagged.TagNo == 1)
            {
                excluded = Asn1Sequence.GetInstance(tagged, false);
            }
        }

        var validator = new PkixNameConstraintValidator();
        var ofType = (Permitted: Of(permitted, name.TagNo), Excluded: Of(excluded, name.TagNo));
        foreach (var subtree in ofType.Excluded)
        {
            validator.AddExcludedSubtree(subtree);
        }

        try
        {
            validator.CheckExcludedName(name);
        }
        catch (PkixNameConstraintValidatorException)
        {
            return $"{Describe(name)} is within the issuer's excluded subtrees ({string.Join(", ", ofType.Excluded.Select(s => Describe(s.Base)))})";
        }

        if (ofType.Permitted.Count == 0)
        {
            return null;
        }

        validator.IntersectPermittedSubtree(new DerSequence(ofType.Permitted.ToArray<Asn1Encodable>()));
        try
        {
            validator.CheckPermittedName(name);
            return null;
        }
        catch (PkixNameConstraintValidatorException)
        {
            return $"{Describe(name)} is outside the issuer's permitted subtrees ({string.Join(", ", ofType.Permitted.Select(s => Describe(s.Base)))})";
        }
    }

    private static List<GeneralSubtree> Of(Asn1Sequence? subtrees, int tag) =>
        subtrees is null ? [] : subtrees.Cast<Asn1Encodable>().Select(GeneralSubtree.GetInstance).Where(s => s.Base.TagNo == tag).ToList();

    private static string Text(GeneralName name) => DerIA5String.GetInstance(name.Name).GetString();

    /// <summary>A name or subtree as the configuration writes it: <c>dns:…</c>, <c>ip:…</c> (with its prefix length for a subtree), <c>email:…</c>.</summary>
    private static string Describe(GeneralName name)
    {
        switch (name.TagNo)
        {
            case GeneralName.DnsName:
                return Dns + Text(name);
            case GeneralName.Rfc822Name:
                return Email + Text(name);
            case GeneralName.UniformResourceIdentifier:
                return UriType + Text(name);
            case GeneralName.IPAddress:
            {
                var octets = Asn1OctetString.GetInstance(name.Name).GetOctets();
                if (octets.Length is 4 or 16)
                {
                    return Ip + new IPAddress(octets);
                }

                if (octets.Length is 8 or 32)
                {
                    var half = octets.Length / 2;
                    var prefix = octets.AsSpan(half).ToArray().Sum(b => System.Numerics.BitOperations.PopCount(b));
                    return $"{Ip}{new IPAddress(octets.AsSpan(0, half))}/{prefix}";
                }

                return Ip + Convert.ToHexString(octets);
            }

            default:
                return name.ToString();
        }
    }

    /// <summary>Why <paramref name="entry"/> is not a subtree; <see langword="null"/> when it is one.</summary>
    private static string? Problem(string? entry)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return "is empty";
        }

        if (entry.StartsWith(Dns, StringComparison.Ordinal))
        {
            var problems = DnsNames.Validate(entry[Dns.Length..], allowWildcard: false);
            return problems.Count == 0 ? null : $"is not a DNS name ({string.Join("; ", problems)})";
        }

        if (entry.StartsWith(Ip, StringComparison.Ordinal))
        {
            // An address with bits set past its prefix is a mistake (ip:10.0.0.1/8 would mean 10.0.0.0/8).
            var block = entry[Ip.Length..];
            var slash = block.IndexOf('/', StringComparison.Ordinal);
            return slash > 0 && IPNetwork.TryParse(block, out var network) && IPAddress.TryParse(block[..slash], out var address) && network.BaseAddress.Equals(address)
                ? null
                : "is not an IPv4 or IPv6 CIDR block such as ip:10.0.0.0/8 (its address bits past the prefix all zero)";
        }

        if (entry.StartsWith(Email, StringComparison.Ordinal))
        {
            var value = entry[Email.Length..];
            var at = value.LastIndexOf('@');
            var host = at < 0 ? (value.StartsWith('.') ? value[1..] : value) : value[(at + 1)..];
            return (at != 0 && DnsNames.Validate(host, allowWildcard: false).Count == 0 && value.Count(c => c == '@') <= 1 && !(at > 0 && value[at + 1] == '.'))
                ? null
                : "is not a mailbox (email:pki@example.com), a host (email:example.com) or a domain (email:.example.com)";
        }

        if (entry.StartsWith(UriType, StringComparison.Ordinal))
        {
            // RFC 5280 §4.2.1.10: a URI subtree names the host part of the URIs within it, a host or (with a leading
            // period) every host under a domain; never a scheme or a path.
            var value = entry[UriType.Length..];
            return DnsNames.Validate(value.StartsWith('.') ? value[1..] : value, allowWildcard: false).Count == 0
                ? null
                : "is not a host (uri:example.org, every URI whose host it is, e.g. spiffe://example.org/…) or a domain (uri:.example.org, every host under it): a URI subtree names the host part only (RFC 5280 §4.2.1.10)";
        }

        return "names no subtree type: write dns:NAME, ip:CIDR, email:HOST or uri:HOST";
    }

    /// <summary>The subtree's base name for a valid <paramref name="entry"/>; <see langword="null"/> for an invalid one.</summary>
    private static GeneralName? Name(string entry)
    {
        if (Problem(entry) is not null)
        {
            return null;
        }

        if (entry.StartsWith(Dns, StringComparison.Ordinal))
        {
            return new GeneralName(GeneralName.DnsName, entry[Dns.Length..].ToLowerInvariant());
        }

        if (entry.StartsWith(Ip, StringComparison.Ordinal))
        {
            var network = IPNetwork.Parse(entry[Ip.Length..]);
            var address = network.BaseAddress.GetAddressBytes();
            var mask = new byte[address.Length];
            for (var bit = 0; bit < network.PrefixLength; bit++)
            {
                mask[bit / 8] |= (byte)(0x80 >> (bit % 8));
            }

            return new GeneralName(GeneralName.IPAddress, new DerOctetString([.. address, .. mask]));
        }

        return entry.StartsWith(UriType, StringComparison.Ordinal)
            ? new GeneralName(GeneralName.UniformResourceIdentifier, entry[UriType.Length..].ToLowerInvariant())
            : new GeneralName(GeneralName.Rfc822Name, entry[Email.Length..]);
    }
}
