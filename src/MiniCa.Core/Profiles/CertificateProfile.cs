using System.Text.Json.Serialization;
using MiniCa.Core.Issuance;

namespace MiniCa.Core.Profiles;

/// <summary>
/// A certificate profile: what a certificate issued under it may and must contain, and who must approve it.
/// Loaded from <c>policies/&lt;name&gt;.json</c> (schema: <c>policies/profile.schema.json</c>) by
/// <see cref="ProfileLoader"/>; unknown fields and bad values stop the start.
/// </summary>
public sealed class CertificateProfile
{
    /// <summary>The profile's name: its file name without <c>.json</c>.</summary>
    [JsonIgnore]
    public string Name { get; set; } = string.Empty;

    /// <summary>The JSON schema reference editors use; ignored by MiniCa.</summary>
    [JsonPropertyName("$schema")]
    public string? Schema { get; set; }

    /// <summary>What the profile is for, shown to requesters.</summary>
    public string Description { get; set; } = string.Empty;

    /// <summary>Validity limits.</summary>
    public ValidityRules Validity { get; set; } = new();

    /// <summary>Which subject keys are accepted.</summary>
    public KeyRules Keys { get; set; } = new();

    /// <summary>keyUsage bits (RFC 5280 §4.2.1.3 names, e.g. <c>digitalSignature</c>); always critical.</summary>
    public List<string> KeyUsage { get; set; } = [];

    /// <summary>extendedKeyUsage purposes by name (<c>serverAuth</c>, …) or dotted OID.</summary>
    public List<string> ExtendedKeyUsage { get; set; } = [];

    /// <summary>Which identifiers may be certified.</summary>
    public IdentifierRules Identifiers { get; set; } = new();

    /// <summary>How the subject DN is built.</summary>
    public SubjectRules Subject { get; set; } = new();

    /// <summary>Which URLs from <c>PublicBaseUrl</c> the certificate carries.</summary>
    public UrlRules Urls { get; set; } = new();

    /// <summary>
    /// The certificate policies its certificates assert (RFC 5280 §4.2.1.4), in a non-critical certificatePolicies
    /// extension; none by default. Each names an OID and optionally a CPS URL and a notice. Relying parties that
    /// require a policy accept the certificate only when the issuing CA's certificate carries the policy too (or
    /// anyPolicy): see <c>Authorities:{name}:CertificatePolicies</c>.
    /// </summary>
    public List<CertificatePolicyEntry> CertificatePolicies { get; set; } = [];

    /// <summary>Adds id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1), for delegated OCSP responders only.</summary>
    public bool OcspNoCheck { get; set; }

    /// <summary>Who must approve a request.</summary>
    public ApprovalRules Approval { get; set; } = new();

    /// <summary>Whether ACME orders may name this profile.</summary>
    public bool Acme { get; set; }

    /// <summary>
    /// Whether certificates of this profile may be put on hold (reason certificateHold). Off by default: CA/B
    /// Forum BR §4.9.13 forbids suspension for publicly-trusted certificates.
    /// </summary>
    public bool AllowCertificateHold { get; set; }
}

/// <summary>Validity of issued certificates.</summary>
public sealed class ValidityRules
{
    /// <summary>Longest validity in days (inclusive of the backdate).</summary>
    public int MaxDays { get; set; } = 90;

    /// <summary>Validity given when the request does not ask for less; at most <see cref="MaxDays"/>.</summary>
    public int? DefaultDays { get; set; }

    /// <summary>
    /// How far notBefore is set in the past to tolerate relying parties with slow clocks. BR §7.1.2.7 allows a
    /// backdate of at most 48 hours; it counts towards the validity period (BR §6.3.2).
    /// </summary>
    public int BackdateMinutes { get; set; } = 5;
}

/// <summary>Subject public key policy.</summary>
public sealed class KeyRules
{
    /// <summary>RSA keys; <see langword="null"/> refuses RSA.</summary>
    public RsaKeyRules? Rsa { get; set; } = new();

    /// <summary>Named curves accepted (<c>P-256</c>, <c>P-384</c>, <c>P-521</c>; BR §6.1.5).</summary>
    public List<string> EcCurves { get; set; } = ["P-256", "P-384", "P-521"];

    /// <summary>Whether Ed25519 keys are accepted (RFC 8410); not for publicly-trusted TLS.</summary>
    public bool Ed25519 { get; set; }
}

/// <summary>RSA key sizes.</summary>
public sealed class RsaKeyRules
{
    /// <summary>Smallest modulus (BR §6.1.5: 2048).</summary>
    public int MinBits { get; set; } = 2048;

    /// <summary>Largest modulus accepted (bounds verification cost).</summary>
    public int MaxBits { get; set; } = 8192;
}

/// <summary>Identifier policy.</summary>
public sealed class IdentifierRules
{
    /// <summary>DNS names.</summary>
    public DnsRules Dns { get; set; } = new();

    /// <summary>IP addresses.</summary>
    public IpRules Ip { get; set; } = new();

    /// <summary>Email addresses (rfc822Name).</summary>
    public EmailRules Email { get; set; } = new();

    /// <summary>URIs (e.g. SPIFFE IDs).</summary>
    public UriRules Uri { get; set; } = new();

    /// <summary>Most identifiers in one certificate.</summary>
    public int MaxCount { get; set; } = 100;

    /// <summary>Whether a certificate must name at least one identifier.</summary>
    public bool Required { get; set; } = true;
}

/// <summary>DNS name rules.</summary>
public sealed class DnsRules
{
    /// <summary>Whether DNS names may be certified.</summary>
    public bool Allowed { get; set; }

    /// <summary>Patterns a name must match: <c>example.com</c> (exactly), <c>*.example.com</c> (any name below it), <c>*</c> (any).</summary>
    public List<string> Allow { get; set; } = ["*"];

    /// <summary>Patterns that are refused even when allowed; deny wins.</summary>
    public List<string> Deny { get; set; } = [];

    /// <summary>Whether wildcard names (<c>*.example.com</c>) may be certified.</summary>
    public bool Wildcards { get; set; }

    /// <summary>
    /// Whether internal names (one label, or a top-level domain that is not public such as .local, .internal,
    /// .corp) may be certified. BR §7.1.4.2.1 forbids them in publicly-trusted certificates; internal PKIs need them.
    /// </summary>
    public bool InternalNames { get; set; }
}

/// <summary>IP address rules.</summary>
public sealed class IpRules
{
    /// <summary>Whether IP addresses may be certified.</summary>
    public bool Allowed { get; set; }

    /// <summary>Networks an address must be in (CIDR).</summary>
    public List<string> Allow { get; set; } = ["0.0.0.0/0", "::/0"];

    /// <summary>Networks refused even when allowed.</summary>
    public List<string> Deny { get; set; } = [];
}

/// <summary>Email address rules.</summary>
public sealed class EmailRules
{
    /// <summary>Whether email addresses may be certified.</summary>
    public bool Allowed { get; set; }

    /// <summary>Domain patterns the address's domain must match (as for DNS).</summary>
    public List<string> Allow { get; set; } = ["*"];

    /// <summary>Domain patterns refused even when allowed.</summary>
    public List<string> Deny { get; set; } = [];
}

/// <summary>URI rules.</summary>
public sealed class UriRules
{
    /// <summary>Whether URIs may be certified.</summary>
    public bool Allowed { get; set; }

    /// <summary>Prefixes a URI must start with (e.g. <c>spiffe://example.org/</c>).</summary>
    public List<string> AllowPrefixes { get; set; } = [];
}

/// <summary>How the subject DN is made.</summary>
public sealed class SubjectRules
{
    /// <summary>
    /// Where the CN comes from: <c>firstIdentifier</c> (the first DNS name, IP or email; BR §7.1.4.3 requires
    /// it to be among the SANs), <c>fromRequest</c> (the CSR's CN, for code signing), or <c>none</c> (empty
    /// subject; the SAN is then critical, RFC 5280 §4.2.1.6).
    /// </summary>
    public string CommonName { get; set; } = "firstIdentifier";

    /// <summary>Attributes placed in every subject, e.g. <c>{ "O": "Example Corp", "C": "DE" }</c>.</summary>
    public Dictionary<string, string> Fixed { get; set; } = [];
}

/// <summary>Which URLs the certificate carries.</summary>
public sealed class UrlRules
{
    /// <summary>AIA caIssuers <c>…/ca/&lt;issuer&gt;.crt</c>.</summary>
    public bool CaIssuers { get; set; } = true;

    /// <summary>AIA OCSP <c>…/ocsp</c>.</summary>
    public bool Ocsp { get; set; } = true;

    /// <summary>CRL distribution point <c>…/crl/&lt;issuer&gt;.crl</c>.</summary>
    public bool CrlDistributionPoint { get; set; } = true;
}

/// <summary>Approval rule.</summary>
public sealed class ApprovalRules
{
    /// <summary><c>auto</c> (issue at once) or <c>manual</c> (wait for officers).</summary>
    public string Mode { get; set; } = "auto";

    /// <summary>For <c>manual</c>: distinct officers (never the requester) who must approve.</summary>
    public int Approvers { get; set; } = 1;

    /// <summary>Whether requests wait for approval.</summary>
    [JsonIgnore]
    public bool IsManual => string.Equals(Mode, "manual", StringComparison.Ordinal);
}
