using System.Net;
using System.Text.Json;
using MiniCa.Core.Errors;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Issuance;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Profiles;

/// <summary>
/// Reads every <c>*.json</c> profile in a folder (schema files excepted), rejecting unknown fields and bad values
/// with the file, the field and the problem.
/// </summary>
public static class ProfileLoader
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = false,
    };

    private static readonly HashSet<string> CommonNameSources = new(StringComparer.Ordinal) { "firstIdentifier", "fromRequest", "none" };

    /// <summary>Loads the profiles of <paramref name="directory"/>.</summary>
    /// <exception cref="CaException">A file is unreadable or invalid (<see cref="CaErrorKind.Configuration"/>); every problem is listed.</exception>
    public static ProfileCatalog LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new CaException(CaErrorKind.Configuration, $"Profiles folder {directory} does not exist (PoliciesDirectory).");
        }

        var problems = new List<string>();
        var profiles = new List<CertificateProfile>();
        foreach (var file in Directory.GetFiles(directory, "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var profile = Parse(file, File.ReadAllText(file), problems);
            if (profile is not null)
            {
                profiles.Add(profile);
            }
        }

        if (problems.Count > 0)
        {
            throw new CaException(CaErrorKind.Configuration, "Invalid certificate profile: " + string.Join("; ", problems));
        }

        return new ProfileCatalog(profiles);
    }

    /// <summary>Parses and validates one profile; problems are added as <c>file: field: problem</c>.</summary>
    public static CertificateProfile? Parse(string file, string json, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var name = Path.GetFileNameWithoutExtension(file);
        CertificateProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<CertificateProfile>(json, Options);
        }
        catch (JsonException ex)
        {
            var where = ex.Path is null ? string.Empty : ex.Path.TrimStart('$', '.') + ": ";
            var what = ex.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "unknown field" : FirstSentence(ex.Message);
            problems.Add($"{file}: {where}{what} (line {(ex.LineNumber ?? 0) + 1})");
            return null;
        }

        if (profile is null)
        {
            problems.Add($"{file}: the file holds no profile object");
            return null;
        }

        profile.Name = name;
        var before = problems.Count;
        Validate(profile, message => problems.Add($"{file}: {message}"));
        return problems.Count == before ? profile : null;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }

    private static void Validate(CertificateProfile p, Action<string> problem)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(p.Name, "^[a-z0-9][a-z0-9-]{0,63}$"))
        {
            problem("the file name must be lowercase letters, digits and '-' (it is the profile's name)");
        }

        if (string.IsNullOrWhiteSpace(p.Description))
        {
            problem("description: is required");
        }

        // BR §6.3.2 caps subscriber certificates at 398 days (less for TLS over time); 3650 bounds private PKIs.
        if (p.Validity.MaxDays is < 1 or > 3650)
        {
            problem($"validity.maxDays: {p.Validity.MaxDays} is out of range (1..3650)");
        }

        if (p.Validity.DefaultDays is { } defaultDays && (defaultDays < 1 || defaultDays > p.Validity.MaxDays))
        {
            problem($"validity.defaultDays: {defaultDays} must be between 1 and maxDays ({p.Validity.MaxDays})");
        }

        // BR §7.1.2.7: notBefore may be backdated by at most 48 hours.
        if (p.Validity.BackdateMinutes is < 0 or > 2880)
        {
            problem($"validity.backdateMinutes: {p.Validity.BackdateMinutes} is out of range (0..2880, BR §7.1.2.7 allows 48 hours)");
        }

        ValidateKeys(p.Keys, problem);

        if (p.KeyUsage.Count == 0)
        {
            problem("keyUsage: at least one usage is required");
        }

        foreach (var usage in p.KeyUsage.Where(u => !ProfileVocabulary.KeyUsages.ContainsKey(u)))
        {
            problem($"keyUsage: '{usage}' is not one of {string.Join(", ", ProfileVocabulary.KeyUsages.Keys)}");
        }

        foreach (var usage in p.KeyUsage.Where(u => u is "keyCertSign" or "cRLSign"))
        {
            problem($"keyUsage: '{usage}' is for CA certificates; profiles issue end-entity certificates only");
        }

        foreach (var eku in p.ExtendedKeyUsage)
        {
            var oid = ProfileVocabulary.ExtendedKeyUsageOid(eku);
            if (oid is null)
            {
                problem($"extendedKeyUsage: '{eku}' is neither one of {string.Join(", ", ProfileVocabulary.ExtendedKeyUsages.Keys)} nor a dotted OID");
            }
            else if (oid.Equals(KeyPurposeID.AnyExtendedKeyUsage))
            {
                problem("extendedKeyUsage: anyExtendedKeyUsage is not allowed (BR §7.1.2.7.10)");
            }
        }

        if (p.OcspNoCheck && !p.ExtendedKeyUsage.Contains("OCSPSigning"))
        {
            problem("ocspNoCheck: only for profiles with the OCSPSigning extended key usage (RFC 6960 §4.2.2.2.1)");
        }

        ValidateIdentifiers(p.Identifiers, problem);

        if (p.CertificatePolicies is null)
        {
            problem("certificatePolicies: must be a list (empty for none)");
        }
        else
        {
            foreach (var message in CertificatePolicyStatements.Problems(
                p.CertificatePolicies,
                "certificatePolicies",
                (i, field) => field is null ? $"certificatePolicies[{i}]" : $"certificatePolicies[{i}].{field}",
                forCa: false))
            {
                problem(message);
            }
        }

        if (!CommonNameSources.Contains(p.Subject.CommonName))
        {
            problem($"subject.commonName: '{p.Subject.CommonName}' is not one of {string.Join(", ", CommonNameSources)}");
        }

        foreach (var (attribute, value) in p.Subject.Fixed)
        {
            if (!X509Name.DefaultLookup.ContainsKey(attribute.ToLowerInvariant()) || attribute.Equals("CN", StringComparison.OrdinalIgnoreCase))
            {
                problem($"subject.fixed: '{attribute}' is not a subject attribute MiniCa sets (use C, O, OU, L, ST, …; CN comes from subject.commonName)");
            }

            if (string.IsNullOrWhiteSpace(value) || value.Length > 64)
            {
                problem($"subject.fixed.{attribute}: must be 1..64 characters (RFC 5280 Appendix A upper bounds)");
            }
        }

        if (p.Approval.Mode is not ("auto" or "manual"))
        {
            problem($"approval.mode: '{p.Approval.Mode}' is not 'auto' or 'manual'");
        }
        else if (p.Approval.IsManual && p.Approval.Approvers is < 1 or > 10)
        {
            problem($"approval.approvers: {p.Approval.Approvers} is out of range (1..10)");
        }
    }

    private static void ValidateKeys(KeyRules keys, Action<string> problem)
    {
        if (keys.Rsa is { } rsa)
        {
            // BR §6.1.5: RSA moduli of at least 2048 bits.
            if (rsa.MinBits < 2048)
            {
                problem($"keys.rsa.minBits: {rsa.MinBits} is below 2048 (BR §6.1.5)");
            }

            if (rsa.MaxBits < rsa.MinBits || rsa.MaxBits > 16384)
            {
                problem($"keys.rsa.maxBits: {rsa.MaxBits} must be between minBits and 16384");
            }
        }

        foreach (var curve in keys.EcCurves.Where(c => c is not ("P-256" or "P-384" or "P-521")))
        {
            problem($"keys.ecCurves: '{curve}' is not P-256, P-384 or P-521 (BR §6.1.5)");
        }

        if (keys.Rsa is null && keys.EcCurves.Count == 0 && !keys.Ed25519)
        {
            problem("keys: no key type is accepted");
        }
    }

    private static void ValidateIdentifiers(IdentifierRules rules, Action<string> problem)
    {
        foreach (var pattern in rules.Dns.Allow.Concat(rules.Dns.Deny).Concat(rules.Email.Allow).Concat(rules.Email.Deny))
        {
            if (!NamePattern.IsValid(pattern))
            {
                problem($"identifiers: '{pattern}' is not a name pattern ('example.com', '*.example.com' or '*')");
            }
        }

        foreach (var cidr in rules.Ip.Allow.Concat(rules.Ip.Deny))
        {
            if (!IPNetwork.TryParse(cidr, out _))
            {
                problem($"identifiers.ip: '{cidr}' is not a CIDR network like 10.0.0.0/8 or fd00::/8");
            }
        }

        foreach (var prefix in rules.Uri.AllowPrefixes)
        {
            if (!System.Uri.TryCreate(prefix, UriKind.Absolute, out _))
            {
                problem($"identifiers.uri.allowPrefixes: '{prefix}' is not an absolute URI prefix");
            }
        }

        if (rules.MaxCount is < 1 or > 1000)
        {
            problem($"identifiers.maxCount: {rules.MaxCount} is out of range (1..1000)");
        }

        if (rules.Required && !(rules.Dns.Allowed || rules.Ip.Allowed || rules.Email.Allowed || rules.Uri.Allowed))
        {
            problem("identifiers.required: true, but no identifier type is allowed");
        }
    }
}

/// <summary>The loaded profiles, by name.</summary>
public sealed class ProfileCatalog
{
    private readonly Dictionary<string, CertificateProfile> _profiles;

    /// <summary>Creates a catalog of <paramref name="profiles"/>.</summary>
    public ProfileCatalog(IEnumerable<CertificateProfile> profiles)
    {
        _profiles = profiles.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    /// <summary>Every profile, by name.</summary>
    public IReadOnlyCollection<CertificateProfile> All => _profiles.Values;

    /// <summary>Whether a profile is called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _profiles.ContainsKey(name);

    /// <summary>The profile called <paramref name="name"/>.</summary>
    /// <exception cref="CaException">No such profile (<see cref="CaErrorKind.NotFound"/>).</exception>
    public CertificateProfile Get(string name) =>
        _profiles.TryGetValue(name, out var profile)
            ? profile
            : throw new CaException(CaErrorKind.NotFound, $"There is no profile '{name}'; profiles: {string.Join(", ", _profiles.Keys.Order(StringComparer.Ordinal))}.");
}
