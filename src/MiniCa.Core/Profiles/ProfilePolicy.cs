using System.Net;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Requests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace MiniCa.Core.Profiles;

/// <summary>What a profile makes of a CSR: the identifiers to certify, the CN, and every reason to refuse.</summary>
/// <param name="Identifiers">The identifiers the certificate will name, in order.</param>
/// <param name="CommonName">The subject CN, or <see langword="null"/> for none.</param>
/// <param name="Problems">Every policy problem; empty when the request may be issued.</param>
public sealed record PolicyDecision(IReadOnlyList<Identifier> Identifiers, string? CommonName, IReadOnlyList<string> Problems)
{
    /// <summary>Whether the request satisfies the profile.</summary>
    public bool IsAllowed => Problems.Count == 0;
}

/// <summary>Checks a verified CSR against a profile's key and identifier rules.</summary>
public static class ProfilePolicy
{
    /// <summary>RFC 5280 Appendix A: ub-common-name is 64 characters.</summary>
    public const int MaxCommonNameLength = 64;

    /// <summary>Evaluates <paramref name="csr"/> under <paramref name="profile"/>; every problem is reported.</summary>
    public static PolicyDecision Evaluate(CertificateProfile profile, ParsedCsr csr)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(csr);
        var problems = new List<string>();
        CheckKey(profile.Keys, csr, problems);

        var identifiers = csr.Identifiers.ToList();
        string? commonName = null;
        switch (profile.Subject.CommonName)
        {
            case "firstIdentifier":
                if (!string.IsNullOrEmpty(csr.CommonName))
                {
                    // Older tools put the name only in the CN: it is certified like a SAN (BR §7.1.4.3 wants it in both).
                    var fromCn = IdentifierFromCommonName(csr.CommonName, problems);
                    if (fromCn is not null && !identifiers.Contains(fromCn))
                    {
                        identifiers.Add(fromCn);
                    }

                    commonName = fromCn?.Value;
                }

                commonName ??= identifiers.FirstOrDefault(i => i.Type != IdentifierType.Uri)?.Value;
                if (commonName is { Length: > MaxCommonNameLength })
                {
                    // Too long for a CN (RFC 5280 ub-common-name): the name is certified in the SAN only.
                    commonName = null;
                }

                break;
            case "fromRequest":
                if (string.IsNullOrWhiteSpace(csr.CommonName))
                {
                    problems.Add($"profile '{profile.Name}' takes the subject CN from the request, but the CSR has none");
                }
                else if (csr.CommonName.Length > MaxCommonNameLength)
                {
                    problems.Add($"the CN is {csr.CommonName.Length} characters; at most {MaxCommonNameLength} (RFC 5280 Appendix A)");
                }
                else
                {
                    commonName = csr.CommonName;
                }

                break;
        }

        var rules = profile.Identifiers;
        if (rules.Required && identifiers.Count == 0)
        {
            problems.Add($"profile '{profile.Name}' requires at least one identifier (a subjectAltName or a CN that names one)");
        }

        if (identifiers.Count > rules.MaxCount)
        {
            problems.Add($"{identifiers.Count} identifiers requested; profile '{profile.Name}' allows at most {rules.MaxCount}");
        }

        foreach (var identifier in identifiers)
        {
            CheckIdentifier(profile, identifier, problems);
        }

        return new PolicyDecision(identifiers, commonName, problems);
    }

    private static void CheckKey(KeyRules rules, ParsedCsr csr, List<string> problems)
    {
        var key = PublicKeyFactory.CreateKey(csr.PublicKey);
        switch (key)
        {
            case RsaKeyParameters rsa when rules.Rsa is null:
                problems.Add($"RSA keys are not accepted by this profile (the CSR has {csr.KeyDescription})");
                break;
            case RsaKeyParameters rsa when rsa.Modulus.BitLength < rules.Rsa.MinBits || rsa.Modulus.BitLength > rules.Rsa.MaxBits:
                problems.Add($"the RSA key has {rsa.Modulus.BitLength} bits; this profile accepts {rules.Rsa.MinBits}..{rules.Rsa.MaxBits}");
                break;
            case ECPublicKeyParameters ec:
                var curve = ec.PublicKeyParamSet is { } oid ? CsrParser.CurveName(oid) : null;
                if (curve is not null && !rules.EcCurves.Contains(curve))
                {
                    problems.Add($"EC keys on {curve} are not accepted by this profile (accepted: {(rules.EcCurves.Count == 0 ? "none" : string.Join(", ", rules.EcCurves))})");
                }

                break;
            case Ed25519PublicKeyParameters when !rules.Ed25519:
                problems.Add("Ed25519 keys are not accepted by this profile");
                break;
        }
    }

    private static Identifier? IdentifierFromCommonName(string commonName, List<string> problems)
    {
        if (IPAddress.TryParse(commonName, out var ip) && (commonName.Contains('.', StringComparison.Ordinal) || commonName.Contains(':', StringComparison.Ordinal)))
        {
            if (ip.ToString() != commonName)
            {
                problems.Add($"the CN '{commonName}' is an IP address not written in canonical form ('{ip}')");
                return null;
            }

            return new Identifier(IdentifierType.Ip, commonName);
        }

        if (commonName.Contains('@', StringComparison.Ordinal))
        {
            return new Identifier(IdentifierType.Email, commonName);
        }

        return new Identifier(IdentifierType.Dns, commonName.ToLowerInvariant());
    }

    /// <summary>
    /// Checks identifiers alone against the profile (name syntax, allow/deny lists, wildcards, internal names),
    /// as ACME does at newOrder before any CSR exists. Returns one list of problems per identifier, in order.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> CheckIdentifiers(CertificateProfile profile, IReadOnlyList<Identifier> identifiers)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(identifiers);
        return identifiers.Select(identifier =>
        {
            var problems = new List<string>();
            CheckIdentifier(profile, identifier, problems);
            return (IReadOnlyList<string>)problems;
        }).ToList();
    }

    private static void CheckIdentifier(CertificateProfile profile, Identifier identifier, List<string> problems)
    {
        var rules = profile.Identifiers;
        switch (identifier.Type)
        {
            case IdentifierType.Dns:
                if (!rules.Dns.Allowed)
                {
                    problems.Add($"{identifier}: DNS names are not allowed by profile '{profile.Name}'");
                    return;
                }

                foreach (var problem in DnsNames.Validate(identifier.Value, rules.Dns.Wildcards))
                {
                    problems.Add($"{identifier}: {problem}");
                }

                if (!rules.Dns.InternalNames && DnsNames.IsInternal(identifier.Value))
                {
                    problems.Add($"{identifier}: is an internal name, which profile '{profile.Name}' does not allow (BR §7.1.4.2.1)");
                }

                if (!NamePattern.IsAllowed(rules.Dns.Allow, rules.Dns.Deny, identifier.Value))
                {
                    problems.Add($"{identifier}: is not in the DNS names profile '{profile.Name}' allows");
                }

                break;
            case IdentifierType.Ip:
                if (!rules.Ip.Allowed)
                {
                    problems.Add($"{identifier}: IP addresses are not allowed by profile '{profile.Name}'");
                    return;
                }

                // Callers pass addresses read from a CSR's octets or checked by ACME, but the rule does not rely on it.
                if (!IPAddress.TryParse(identifier.Value, out var address))
                {
                    problems.Add($"{identifier}: is not an IP address");
                    return;
                }

                if (!rules.Ip.Allow.Any(n => IPNetwork.Parse(n).Contains(address)) || rules.Ip.Deny.Any(n => IPNetwork.Parse(n).Contains(address)))
                {
                    problems.Add($"{identifier}: is not in the networks profile '{profile.Name}' allows");
                }

                break;
            case IdentifierType.Email:
                if (!rules.Email.Allowed)
                {
                    problems.Add($"{identifier}: email addresses are not allowed by profile '{profile.Name}'");
                    return;
                }

                var at = identifier.Value.LastIndexOf('@');
                var local = at > 0 ? identifier.Value[..at] : string.Empty;
                var domain = at > 0 ? identifier.Value[(at + 1)..] : string.Empty;
                if (local.Length is 0 or > 64 || local.Any(c => c <= ' ' || c > '~' || c is '@' or '"' or '(' or ')' or ',' or ':' or ';' or '<' or '>' or '[' or '\\' or ']')
                    || DnsNames.Validate(domain, allowWildcard: false).Count > 0)
                {
                    problems.Add($"{identifier}: is not a valid email address (RFC 5321 mailbox with an ASCII local part)");
                }
                else if (!NamePattern.IsAllowed(rules.Email.Allow, rules.Email.Deny, domain))
                {
                    problems.Add($"{identifier}: the domain '{domain}' is not one profile '{profile.Name}' allows");
                }

                break;
            case IdentifierType.Uri:
                if (!rules.Uri.Allowed)
                {
                    problems.Add($"{identifier}: URIs are not allowed by profile '{profile.Name}'");
                    return;
                }

                if (!Uri.TryCreate(identifier.Value, UriKind.Absolute, out _))
                {
                    problems.Add($"{identifier}: is not an absolute URI");
                }
                else if (!rules.Uri.AllowPrefixes.Any(p => identifier.Value.StartsWith(p, StringComparison.Ordinal)))
                {
                    problems.Add($"{identifier}: does not start with a prefix profile '{profile.Name}' allows");
                }

                break;
        }
    }
}
