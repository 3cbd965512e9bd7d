using System.Text.RegularExpressions;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Configuration;

/// <summary>
/// Checks <see cref="CaOptions"/> once at start-up. Each problem names the configuration key
/// (<c>Section:Key</c>) and what is wrong, so a person can fix the file without reading code.
/// </summary>
public static partial class CaOptionsValidator
{
    /// <summary>Fills in defaults that depend on other values (the default authorities).</summary>
    public static void ApplyDefaults(CaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Authorities.Count == 0)
        {
            options.Authorities["root"] = AuthorityOptions.DefaultRoot();
            options.Authorities["issuing"] = AuthorityOptions.DefaultIssuing();
        }
    }

    /// <summary>Returns every problem found, each as <c>Key: problem</c>; empty when the options are valid.</summary>
    public static IReadOnlyList<string> Validate(CaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            problems.Add("DataDirectory: must not be empty.");
        }

        if (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var baseUrl)
            || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.Fragment))
        {
            problems.Add($"PublicBaseUrl: '{options.PublicBaseUrl}' is not an absolute http(s) URL without query or fragment.");
        }

        if (options.Authorities.Count > 0 && !options.Authorities.ContainsKey(options.IssuingAuthority))
        {
            problems.Add($"IssuingAuthority: '{options.IssuingAuthority}' is not an authority in this file.");
        }

        if (options.Crl.NextUpdateHours is < 1 or > 8760)
        {
            problems.Add($"Crl:NextUpdateHours: {options.Crl.NextUpdateHours} is out of range (1..8760).");
        }

        if (options.Crl.DeltaIntervalMinutes < 0 || (options.Crl.DeltasEnabled && options.Crl.DeltaIntervalMinutes >= options.Crl.NextUpdateHours * 60))
        {
            problems.Add($"Crl:DeltaIntervalMinutes: {options.Crl.DeltaIntervalMinutes} must be 0 (no delta CRLs) or shorter than Crl:NextUpdateHours.");
        }

        if (options.Crl.RevocationDelaySeconds is < 0 or > 3600)
        {
            problems.Add($"Crl:RevocationDelaySeconds: {options.Crl.RevocationDelaySeconds} is out of range (0..3600).");
        }

        if (options.Audit.AnchorLogMinutes is < 0 or > 1440)
        {
            problems.Add($"Audit:AnchorLogMinutes: {options.Audit.AnchorLogMinutes} is out of range (0..1440; 0: no anchors logged).");
        }

        if (options.Audit.AnchorSettledSeconds is < 0 or > 86400)
        {
            problems.Add($"Audit:AnchorSettledSeconds: {options.Audit.AnchorSettledSeconds} is out of range (0..86400).");
        }

        if (options.Audit.CheckHours is < 0 or > 8760)
        {
            problems.Add($"Audit:CheckHours: {options.Audit.CheckHours} is out of range (0..8760; 0: at start only).");
        }

        for (var i = 0; i < options.BlockedKeyLists.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.BlockedKeyLists[i]))
            {
                problems.Add($"BlockedKeyLists:{i}: is empty; name a file of blocked keys, or leave the entry out.");
            }
        }

        if (options.Backup.Directory is { } backups && string.IsNullOrWhiteSpace(backups))
        {
            problems.Add("Backup:Directory: is empty; name a folder for scheduled backups, or leave the key out for none.");
        }

        if (options.Backup.IntervalMinutes is < 1 or > 525600)
        {
            problems.Add($"Backup:IntervalMinutes: {options.Backup.IntervalMinutes} is out of range (1..525600).");
        }

        if (options.Backup.Keep is < 1 or > 1000)
        {
            problems.Add($"Backup:Keep: {options.Backup.Keep} is out of range (1..1000).");
        }

        if (!KeyAlgorithm.TryParse(options.Audit.KeyAlgorithm, out _))
        {
            problems.Add($"Audit:KeyAlgorithm: '{options.Audit.KeyAlgorithm}' is not one of {string.Join(", ", KeyAlgorithm.All.Select(a => a.Name))}.");
        }

        if (options.Ocsp.ValidityHours is < 1 or > 240)
        {
            problems.Add($"Ocsp:ValidityHours: {options.Ocsp.ValidityHours} is out of range (1..240; BR §4.9.10 allows at most 10 days).");
        }

        if (!KeyAlgorithm.TryParse(options.Ocsp.KeyAlgorithm, out _))
        {
            problems.Add($"Ocsp:KeyAlgorithm: '{options.Ocsp.KeyAlgorithm}' is not one of {string.Join(", ", KeyAlgorithm.All.Select(a => a.Name))}.");
        }

        ValidateAcme(options.Acme, problems);
        ValidateHsm(options.Hsm, problems);
        ValidateDatabase(options.Database, problems);
        ValidateAuthorities(options.Authorities, problems);
        return problems;
    }

    private static void ValidateAcme(AcmeOptions acme, List<string> problems)
    {
        if (acme.Validation.HttpPort is < 1 or > 65535)
        {
            problems.Add($"Acme:Validation:HttpPort: {acme.Validation.HttpPort} is not a port (1..65535).");
        }

        if (acme.Validation.TlsPort is < 1 or > 65535)
        {
            problems.Add($"Acme:Validation:TlsPort: {acme.Validation.TlsPort} is not a port (1..65535).");
        }

        if (!string.IsNullOrWhiteSpace(acme.Validation.DnsResolver) && !TryParseEndpoint(acme.Validation.DnsResolver, out _, out _))
        {
            problems.Add($"Acme:Validation:DnsResolver: '{acme.Validation.DnsResolver}' is not host:port (e.g. 127.0.0.1:53).");
        }

        if (acme.Validation.TimeoutSeconds is < 1 or > 120)
        {
            problems.Add($"Acme:Validation:TimeoutSeconds: {acme.Validation.TimeoutSeconds} is out of range (1..120).");
        }

        if (acme.OrdersPerHour is < 1 or > 1_000_000)
        {
            problems.Add($"Acme:OrdersPerHour: {acme.OrdersPerHour} is out of range (1..1000000).");
        }

        if (acme.OrderLifetimeHours is < 1 or > 720)
        {
            problems.Add($"Acme:OrderLifetimeHours: {acme.OrderLifetimeHours} is out of range (1..720).");
        }

        foreach (var (name, url) in new[] { ("TermsOfService", acme.TermsOfService), ("Website", acme.Website) })
        {
            if (!string.IsNullOrWhiteSpace(url) && !Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                problems.Add($"Acme:{name}: '{url}' is not an absolute URL.");
            }
        }
    }

    /// <summary>Parses <c>host:port</c> (IPv6 in brackets).</summary>
    public static bool TryParseEndpoint(string text, out string host, out int port)
    {
        ArgumentNullException.ThrowIfNull(text);
        host = string.Empty;
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = text[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    private static void ValidateHsm(HsmOptions hsm, List<string> problems)
    {
        if (hsm.MaxSessions is < 1 or > 1024)
        {
            problems.Add($"Hsm:MaxSessions: {hsm.MaxSessions} is out of range (1..1024).");
        }

        if (hsm.MaxConcurrentSignatures is < 0 or > 1024)
        {
            problems.Add($"Hsm:MaxConcurrentSignatures: {hsm.MaxConcurrentSignatures} is out of range (0..1024; 0 = no limit).");
        }

        if (hsm.IsEmbedded && !Path.IsPathRooted(hsm.EmbeddedModulePath))
        {
            problems.Add($"Hsm:EmbeddedModulePath: '{hsm.EmbeddedModulePath}' must be an absolute path.");
        }

        if (hsm.OperationTimeoutSeconds is < 1 or > 300)
        {
            problems.Add($"Hsm:OperationTimeoutSeconds: {hsm.OperationTimeoutSeconds} is out of range (1..300).");
        }

        if (hsm.ProbeIntervalSeconds is < 1 or > 3600)
        {
            problems.Add($"Hsm:ProbeIntervalSeconds: {hsm.ProbeIntervalSeconds} is out of range (1..3600).");
        }

        if (hsm.QuorumApprovals is < 1 or > 16)
        {
            problems.Add($"Hsm:QuorumApprovals: {hsm.QuorumApprovals} is out of range (1..16).");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < hsm.Members.Count; i++)
        {
            var member = hsm.Members[i];
            var key = $"Hsm:Members:{i}";
            if (string.IsNullOrWhiteSpace(member.Name))
            {
                problems.Add($"{key}:Name: is required.");
            }
            else if (!names.Add(member.Name))
            {
                problems.Add($"{key}:Name: '{member.Name}' is used by another member.");
            }

            if (string.IsNullOrWhiteSpace(member.ModulePath) || !Path.IsPathRooted(member.ModulePath))
            {
                problems.Add($"{key}:ModulePath: must be the absolute path of a PKCS#11 module.");
            }

            if (string.IsNullOrWhiteSpace(member.TokenLabel) == string.IsNullOrWhiteSpace(member.TokenSerial))
            {
                problems.Add($"{key}: give exactly one of TokenLabel and TokenSerial.");
            }

            if (!IsPinSource(member.PinSource))
            {
                problems.Add($"{key}:PinSource: must be 'env:NAME' or 'file:PATH' (a PIN is never written in the configuration).");
            }

            if (member.SoPinSource is not null && !IsPinSource(member.SoPinSource))
            {
                problems.Add($"{key}:SoPinSource: must be 'env:NAME' or 'file:PATH' (a PIN is never written in the configuration).");
            }

            foreach (var variable in member.ModuleEnvironment.Keys)
            {
                if (variable.Length == 0 || variable.Contains('=', StringComparison.Ordinal) || variable.Any(char.IsWhiteSpace))
                {
                    problems.Add($"{key}:ModuleEnvironment: '{variable}' is not an environment variable name.");
                }
            }
        }
    }

    private static bool IsPinSource(string source) =>
        (source.StartsWith("env:", StringComparison.Ordinal) || source.StartsWith("file:", StringComparison.Ordinal)) && source.Length > 5;

    private static void ValidateDatabase(DatabaseOptions database, List<string> problems)
    {
        if (database.IsPostgres)
        {
            if (string.IsNullOrWhiteSpace(database.ConnectionString))
            {
                problems.Add("Database:ConnectionString: required with Provider 'Postgres', e.g. 'Host=db.internal;Database=minica;Username=minica'.");
            }
            else if (database.ConnectionString.Split(';').Select(part => part.Split('=', 2)[0].Trim())
                     .Any(key => key.Equals("Password", StringComparison.OrdinalIgnoreCase) || key.Equals("Pwd", StringComparison.OrdinalIgnoreCase) || key.Equals("Psw", StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add("Database:ConnectionString: holds a password; a secret is never in the configuration: set Database:PasswordSource to env:NAME or file:PATH.");
            }

            if (database.PasswordSource is { } source && !IsPinSource(source))
            {
                problems.Add($"Database:PasswordSource: '{source}' must be 'env:NAME' or 'file:PATH'.");
            }
        }
        else if (!string.Equals(database.Provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Database:Provider: '{database.Provider}' is not a provider; use 'Sqlite' or 'Postgres'.");
        }
        else if (database.PasswordSource is not null)
        {
            problems.Add("Database:PasswordSource: only for Provider 'Postgres'; a SQLite database has no password.");
        }

        if (database.MinFreeSpaceMiB is < 0 or > 16 * 1024 * 1024)
        {
            problems.Add($"Database:MinFreeSpaceMiB: {database.MinFreeSpaceMiB} is out of range (0..16777216; 0 = no warning).");
        }
    }

    private static void ValidateAuthorities(Dictionary<string, AuthorityOptions> authorities, List<string> problems)
    {
        var roots = 0;
        foreach (var (name, authority) in authorities)
        {
            var key = $"Authorities:{name}";
            if (!AuthorityName().IsMatch(name) || name.EndsWith("-delta", StringComparison.Ordinal))
            {
                // The name appears in URLs (/ca/{ca}.crt, /crl/{ca}.crl) and in key labels.
                problems.Add($"{key}: the name must be 1-32 lowercase letters, digits or '-', starting with a letter, and not end in '-delta' (the name of delta CRLs).");
            }

            if (authority is null)
            {
                problems.Add($"{key}: is empty.");
                continue;
            }

            try
            {
                var subject = new X509Name(authority.Subject);
                if (subject.GetOidList().Count == 0)
                {
                    problems.Add($"{key}:Subject: must not be empty.");
                }
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
            {
                problems.Add($"{key}:Subject: '{authority.Subject}' is not a distinguished name like 'CN=Example CA,O=Example'.");
            }

            var keyOk = KeyAlgorithm.TryParse(authority.KeyAlgorithm, out var keyAlgorithm);
            if (!keyOk)
            {
                problems.Add($"{key}:KeyAlgorithm: '{authority.KeyAlgorithm}' is not one of {string.Join(", ", KeyAlgorithm.All.Select(a => a.Name))}.");
            }

            if (!string.IsNullOrEmpty(authority.SignatureAlgorithm))
            {
                if (!Enum.TryParse<SignatureAlgorithm>(authority.SignatureAlgorithm, ignoreCase: true, out var signature))
                {
                    problems.Add($"{key}:SignatureAlgorithm: '{authority.SignatureAlgorithm}' is not one of {string.Join(", ", Enum.GetNames<SignatureAlgorithm>())}.");
                }
                else if (keyOk && !SignatureAlgorithms.Fits(signature, keyAlgorithm!))
                {
                    problems.Add($"{key}:SignatureAlgorithm: {signature} cannot be made with a {keyAlgorithm} key.");
                }
            }

            if (authority.ValidityDays is < 1 or > 36525)
            {
                problems.Add($"{key}:ValidityDays: {authority.ValidityDays} is out of range (1..36525).");
            }

            if (authority.PathLength is < 0)
            {
                problems.Add($"{key}:PathLength: must be 0 or more, or absent for no limit.");
            }

            if (authority.NameConstraints is { } constraints)
            {
                if (string.IsNullOrEmpty(authority.Issuer))
                {
                    // RFC 5280 §6.1: a trust anchor's own extensions are not processed, so constraints there bind nobody.
                    problems.Add($"{key}:NameConstraints: a root's are not enforced by relying parties (RFC 5280 §6.1 does not process a trust anchor's extensions); put them on the subordinate CA that issues.");
                }

                problems.AddRange(MiniCa.Core.Authorities.AuthorityNameConstraints.Problems(constraints, $"{key}:NameConstraints"));
            }

            if (authority.CertificatePolicies is { } policies)
            {
                if (string.IsNullOrEmpty(authority.Issuer))
                {
                    // RFC 5280 §6.1: a trust anchor's certificatePolicies are not processed; BR §7.1.2.1 does not recommend them on roots.
                    problems.Add($"{key}:CertificatePolicies: a root's are not processed by relying parties (RFC 5280 §6.1 does not process a trust anchor's extensions); put them on the subordinate CA that issues.");
                }

                problems.AddRange(MiniCa.Core.Issuance.CertificatePolicyStatements.Problems(
                    policies,
                    $"{key}:CertificatePolicies",
                    (i, field) => field is null ? $"{key}:CertificatePolicies:{i}" : $"{key}:CertificatePolicies:{i}:{char.ToUpperInvariant(field[0])}{field[1..]}",
                    forCa: true).Select(p => p + "."));
            }

            if (string.IsNullOrEmpty(authority.Issuer))
            {
                roots++;
            }
            else if (!authorities.ContainsKey(authority.Issuer))
            {
                problems.Add($"{key}:Issuer: '{authority.Issuer}' is not an authority in this file.");
            }
            else if (HasCycle(authorities, name))
            {
                problems.Add($"{key}:Issuer: the chain of issuers loops back to '{name}'.");
            }
        }

        if (authorities.Count > 0 && roots == 0)
        {
            problems.Add("Authorities: at least one authority must be a self-signed root (no Issuer).");
        }
    }

    private static bool HasCycle(Dictionary<string, AuthorityOptions> authorities, string start)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { start };
        var current = authorities[start]?.Issuer;
        while (!string.IsNullOrEmpty(current) && authorities.TryGetValue(current, out var next))
        {
            if (!seen.Add(current))
            {
                return true;
            }

            current = next?.Issuer;
        }

        return false;
    }

    /// <summary>The order in which authorities must be created: every issuer before what it signs.</summary>
    public static IReadOnlyList<string> CreationOrder(IReadOnlyDictionary<string, AuthorityOptions> authorities)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        return authorities.Keys
            .OrderBy(name => Depth(authorities, name))
            .ThenBy(name => name, StringComparer.Ordinal)
            .ToList();
    }

    private static int Depth(IReadOnlyDictionary<string, AuthorityOptions> authorities, string name)
    {
        var depth = 0;
        var current = authorities[name].Issuer;
        while (!string.IsNullOrEmpty(current) && depth <= authorities.Count)
        {
            depth++;
            current = authorities[current].Issuer;
        }

        return depth;
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$")]
    private static partial Regex AuthorityName();
}
