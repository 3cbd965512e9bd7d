namespace MiniCa.Core.Configuration;

/// <summary>
/// The whole of <c>ca.config.json</c>. Bound once at start-up, validated by <see cref="CaOptionsValidator"/>, then
/// treated as immutable. Secrets are never here: PINs come from a <c>PinSource</c>.
/// </summary>
public sealed class CaOptions
{
    /// <summary>Where the SQLite database, embedded token store, generated secrets and CA files live.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Base of the AIA, CRL DP and OCSP URLs in certificates and of the ACME directory.</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:5000";

    /// <summary>
    /// <see cref="PublicBaseUrl"/> as a base for relative URLs (always ending in '/', so <c>crl/x.crl</c> is appended
    /// rather than replacing the last path segment).
    /// </summary>
    public Uri PublicBaseUri => new(PublicBaseUrl.EndsWith('/') ? PublicBaseUrl : PublicBaseUrl + "/");

    /// <summary>Where the web host listens (semicolon-separated URLs).</summary>
    public string Urls { get; set; } = "http://localhost:5000";

    /// <summary>
    /// Redirect plain HTTP to HTTPS and send HSTS (when the host listens on HTTPS). Off by default: OCSP and CRL
    /// are served over plain HTTP on purpose (RFC 5280 §4.2.1.13, RFC 6960 Appendix A), and a TLS-terminating
    /// proxy usually sits in front of the portal.
    /// </summary>
    public bool HttpsRedirection { get; set; }

    /// <summary>Folder of certificate profiles.</summary>
    public string PoliciesDirectory { get; set; } = "policies";

    /// <summary>The authority that signs subscriber certificates.</summary>
    public string IssuingAuthority { get; set; } = "issuing";

    /// <summary>The HSM members; none means the embedded SoftHSM2 token.</summary>
    public HsmOptions Hsm { get; set; } = new();

    /// <summary>The issuance database.</summary>
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>CRL publication.</summary>
    public CrlOptions Crl { get; set; } = new();

    /// <summary>The OCSP responder.</summary>
    public OcspOptions Ocsp { get; set; } = new();

    /// <summary>The ACME server (RFC 8555).</summary>
    public AcmeOptions Acme { get; set; } = new();

    /// <summary>The audit log's hash chain: the anchors the web host logs.</summary>
    public AuditOptions Audit { get; set; } = new();

    /// <summary>Backups the web host makes on its own (<c>Backup:Directory</c> turns them on).</summary>
    public BackupOptions Backup { get; set; } = new();

    /// <summary>
    /// The certificate authorities by name (the <c>{ca}</c> of <c>/ca/{ca}.crt</c>); when empty, <c>root</c> and
    /// <c>issuing</c> with the defaults of <see cref="AuthorityOptions.DefaultRoot"/> and
    /// <see cref="AuthorityOptions.DefaultIssuing"/>.
    /// </summary>
    public Dictionary<string, AuthorityOptions> Authorities { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Files of RSA keys whose private keys are known (Debian's weak keys of 2008, leaked keys), in the format of
    /// Debian's <c>openssl-blacklist</c>: a CSR for a listed key is refused (BR §6.1.1.3 (5)). Read at start (and by the web host again after a change); a line
    /// that is not a key's fingerprint stops the start naming the file and line. Relative to the configuration file.
    /// </summary>
    public List<string> BlockedKeyLists { get; set; } = [];
}

/// <summary>The <c>Hsm</c> section.</summary>
public sealed class HsmOptions
{
    /// <summary>The PKCS#11 tokens that hold the CA keys. Empty: the embedded SoftHSM2 token.</summary>
    public List<HsmMemberOptions> Members { get; set; } = [];

    /// <summary>Module used for the embedded token (Debian's SoftHSM2 by default).</summary>
    public string EmbeddedModulePath { get; set; } = "/usr/lib/softhsm/libsofthsm2.so";

    /// <summary>Most PKCS#11 sessions each member keeps open for concurrent signing.</summary>
    public int MaxSessions { get; set; } = 16;

    /// <summary>
    /// Most certificate signatures the issuance pipeline asks of the HSM at once; 0 = no limit but the sessions.
    /// Unset: the number of cores for the embedded SoftHSM2 token, whose signatures are computed on this machine's
    /// cores (more at once only wait on its locks and on each other while holding pool threads), and no limit for
    /// configured members, whose signatures are computed in the HSM.
    /// </summary>
    public int? MaxConcurrentSignatures { get; set; }

    /// <summary>The limit in force: <see cref="MaxConcurrentSignatures"/> or its default; 0 = none.</summary>
    public int SignatureConcurrency => MaxConcurrentSignatures ?? (IsEmbedded ? Environment.ProcessorCount : 0);

    /// <summary>
    /// How long one PKCS#11 call may take before the member is taken for dead and the operation goes to another
    /// member (clusters of two or more members only: with one member there is nowhere else to go).
    /// </summary>
    public int OperationTimeoutSeconds { get; set; } = 5;

    /// <summary>How often members that are down are probed for readmission (and healthy ones checked).</summary>
    public int ProbeIntervalSeconds { get; set; } = 2;

    /// <summary>
    /// Whether the key ceremony makes CA keys that can be copied to new members: extractable, but only wrapped
    /// by a key the token's security officer marked trusted (CKA_WRAP_WITH_TRUSTED). Off by default: keys are then
    /// never extractable and a cluster must generate them on one member only. See the README's HSM cluster section.
    /// </summary>
    public bool CopyableKeys { get; set; }

    /// <summary>How many distinct administrators must approve a cluster operation (add/remove member, copy or destroy keys).</summary>
    public int QuorumApprovals { get; set; } = 2;

    /// <summary>Whether no member is configured, so the embedded token is used.</summary>
    public bool IsEmbedded => Members.Count == 0;
}

/// <summary>One PKCS#11 token holding the CA keys.</summary>
public sealed class HsmMemberOptions
{
    /// <summary>A name for logs, status output and (later) cluster operations.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Absolute path of the PKCS#11 module (shared library).</summary>
    public string ModulePath { get; set; } = string.Empty;

    /// <summary>The token's label; give this or <see cref="TokenSerial"/>.</summary>
    public string? TokenLabel { get; set; }

    /// <summary>The token's serial number; give this or <see cref="TokenLabel"/>.</summary>
    public string? TokenSerial { get; set; }

    /// <summary>Where the user PIN comes from: <c>env:NAME</c> or <c>file:PATH</c>.</summary>
    public string PinSource { get; set; } = string.Empty;

    /// <summary>
    /// Where the security officer's PIN comes from (<c>env:NAME</c> or <c>file:PATH</c>); needed only on a member
    /// that copies keys out, to create the trusted key-encryption key.
    /// </summary>
    public string? SoPinSource { get; set; }

    /// <summary>
    /// Variables set in the native environment while this member's module loads, e.g.
    /// <c>P11_KIT_SERVER_ADDRESS</c> for p11-kit's client. A member with variables gets a private copy of the
    /// module, so two members can use one client library with different settings in one process.
    /// </summary>
    public Dictionary<string, string> ModuleEnvironment { get; set; } = [];
}

/// <summary>The <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (embedded default) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Whether <see cref="Provider"/> is PostgreSQL.</summary>
    public bool IsPostgres => string.Equals(Provider, "Postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The connection string; for SQLite the default is <c>&lt;DataDirectory&gt;/minica.db</c>. For PostgreSQL it is
    /// required (Npgsql's form, e.g. <c>Host=db.internal;Database=minica;Username=minica</c>) and holds no password.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// PostgreSQL: where the database password comes from, <c>env:NAME</c> or <c>file:PATH</c> (as the HSM PINs);
    /// unset for a server that needs none (peer or certificate authentication).
    /// </summary>
    public string? PasswordSource { get; set; }

    /// <summary>
    /// SQLite: below this much free space (MiB) on the database file's disk, <c>/healthz</c> reports the database
    /// degraded, before a full disk refuses issuance and revocation; 0 turns the warning off.
    /// </summary>
    public int MinFreeSpaceMiB { get; set; } = 256;
}

/// <summary>The <c>Crl</c> section.</summary>
public sealed class CrlOptions
{
    /// <summary>
    /// Hours between thisUpdate and nextUpdate. A CRL is regenerated when half of this has passed, and soon after
    /// every revocation. BR §4.9.7 allows at most 7 days (168 hours) for subscriber CRLs.
    /// </summary>
    public int NextUpdateHours { get; set; } = 24;

    /// <summary>Seconds to wait after a revocation before regenerating, so a burst of revocations makes one CRL.</summary>
    public int RevocationDelaySeconds { get; set; } = 2;

    /// <summary>
    /// Minutes between delta CRLs (RFC 5280 §5.2.4); 0 disables them. When enabled, certificates and full CRLs carry
    /// a Freshest CRL pointer to <c>…/crl/&lt;ca&gt;-delta.crl</c>, and a delta follows every revocation.
    /// </summary>
    public int DeltaIntervalMinutes { get; set; }

    /// <summary>Whether delta CRLs are published.</summary>
    public bool DeltasEnabled => DeltaIntervalMinutes > 0;
}

/// <summary>The <c>Acme</c> section.</summary>
public sealed class AcmeOptions
{
    /// <summary>Whether <c>/acme</c> is served.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The profile an order gets when it names none (it must allow ACME).</summary>
    public string DefaultProfile { get; set; } = "tls-server";

    /// <summary>The directory's <c>meta.termsOfService</c> URL, if any (RFC 8555 §7.1.1).</summary>
    public string? TermsOfService { get; set; }

    /// <summary>The directory's <c>meta.website</c> URL, if any.</summary>
    public string? Website { get; set; }

    /// <summary>The directory's <c>meta.caaIdentities</c>: the issuer domain names CAA records name for this CA.</summary>
    public List<string> CaaIdentities { get; set; } = [];

    /// <summary>Whether new accounts must be bound to an external account (an EAB key from the portal, RFC 8555 §7.3.4).</summary>
    public bool ExternalAccountRequired { get; set; }

    /// <summary>New orders one account may place per hour.</summary>
    public int OrdersPerHour { get; set; } = 300;

    /// <summary>Hours until a pending order and its authorizations expire.</summary>
    public int OrderLifetimeHours { get; set; } = 24;

    /// <summary>Where and how challenges are validated.</summary>
    public AcmeValidationOptions Validation { get; set; } = new();
}

/// <summary>Challenge validation settings (ARCHITECTURE.md §3).</summary>
public sealed class AcmeValidationOptions
{
    /// <summary>The port http-01 connects to (RFC 8555 §8.3 says 80; a test points it elsewhere).</summary>
    public int HttpPort { get; set; } = 80;

    /// <summary>The port tls-alpn-01 connects to (RFC 8737 §3 says 443).</summary>
    public int TlsPort { get; set; } = 443;

    /// <summary>The DNS server (<c>host:port</c>) validation asks; empty: the system resolver.</summary>
    public string? DnsResolver { get; set; }

    /// <summary>Seconds a validation may take, connection and body included.</summary>
    public int TimeoutSeconds { get; set; } = 10;
}

/// <summary>The <c>Audit</c> section.</summary>
public sealed class AuditOptions
{
    /// <summary>
    /// Minutes between the web host's log lines naming the audit chain's anchor (0: none); the first comes at start.
    /// A log shipper that keeps them outside the CA lets <c>minica audit verify --anchor</c> check the log later.
    /// </summary>
    public int AnchorLogMinutes { get; set; } = 60;

    /// <summary>How long ago, at least, the newest event in a logged anchor was written, in seconds (on PostgreSQL a transaction may commit after a later id).</summary>
    public int AnchorSettledSeconds { get; set; } = 300;

    /// <summary>
    /// Hours between the web host's full checks of the audit log against the signed anchors stored in it (the first
    /// comes at start; 0: at start only). A failing one is an error in the log and the gauge
    /// <c>minica_audit_signed_anchors_failing</c>.
    /// </summary>
    public int CheckHours { get; set; } = 24;

    /// <summary>
    /// Key algorithm of the audit key (generated in the HSM on first use, named <c>audit</c>), which signs each
    /// anchor the web host logs and stores it in the audit log (<see cref="Ledger.SignedAuditAnchor"/>).
    /// </summary>
    public string KeyAlgorithm { get; set; } = "P-256";
}

/// <summary>The <c>Backup</c> section: scheduled backups, as <c>minica backup</c> makes them.</summary>
public sealed class BackupOptions
{
    /// <summary>
    /// The folder the web host writes a backup into (<c>minica-YYYYMMDDTHHMMSSZ</c>, each checkable with
    /// <c>minica backup verify</c>) whenever the newest one there is <see cref="IntervalMinutes"/> old, or there is
    /// none; <see langword="null"/> (the default): no scheduled backups. Best on another disk than the data folder.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>Minutes between scheduled backups (default 1,440: daily).</summary>
    public int IntervalMinutes { get; set; } = 1440;

    /// <summary>How many scheduled backups to keep in <see cref="Directory"/>: after each one the oldest beyond it are removed.</summary>
    public int Keep { get; set; } = 7;
}

/// <summary>The <c>Ocsp</c> section.</summary>
public sealed class OcspOptions
{
    /// <summary>
    /// Hours between thisUpdate and nextUpdate of responses. Pre-signed responses are refreshed when half of this has
    /// passed and at once after a revocation. BR §4.9.10 allows at most 10 days.
    /// </summary>
    public int ValidityHours { get; set; } = 24;

    /// <summary>Key algorithm of the delegated responder's key (generated in the HSM).</summary>
    public string KeyAlgorithm { get; set; } = "P-256";
}

/// <summary>One certificate authority: its key and its certificate.</summary>
public sealed class AuthorityOptions
{
    /// <summary>The subject distinguished name, e.g. <c>CN=MiniCa Root CA,O=MiniCa</c>.</summary>
    public string Subject { get; set; } = string.Empty;

    /// <summary>The name of the authority that signs this one; empty for a self-signed root.</summary>
    public string? Issuer { get; set; }

    /// <summary>Key algorithm: P-256, P-384, RSA-2048, RSA-3072 or RSA-4096.</summary>
    public string KeyAlgorithm { get; set; } = "P-256";

    /// <summary>Signature algorithm this authority signs with; empty for the key's default.</summary>
    public string? SignatureAlgorithm { get; set; }

    /// <summary>Validity of the authority's certificate in days.</summary>
    public int ValidityDays { get; set; } = 3650;

    /// <summary>basicConstraints pathLenConstraint; empty for no limit (RFC 5280 §4.2.1.9).</summary>
    public int? PathLength { get; set; }

    /// <summary>
    /// The names this authority may certify (a subordinate CA only), put in its certificate's critical nameConstraints
    /// extension by the key ceremony (RFC 5280 §4.2.1.10); empty for none.
    /// </summary>
    public NameConstraintsOptions? NameConstraints { get; set; }

    /// <summary>
    /// The certificate policies this authority (a subordinate CA only) conveys, put in its certificate's
    /// certificatePolicies extension by the key ceremony (RFC 5280 §4.2.1.4): the OIDs its profiles assert, or
    /// <c>anyPolicy</c>; empty for none. Relying parties that require a policy accept a certificate only when every
    /// CA certificate on its path carries that policy or anyPolicy (RFC 5280 §6.1.3 (d)).
    /// </summary>
    public List<MiniCa.Core.Issuance.CertificatePolicyEntry>? CertificatePolicies { get; set; }

    /// <summary>
    /// The default root: P-384 (stronger than what it signs, NIST SP 800-57 Part 1 Table 2), 20 years, no path
    /// length limit as roots conventionally carry none.
    /// </summary>
    public static AuthorityOptions DefaultRoot() => new()
    {
        Subject = "CN=MiniCa Root CA,O=MiniCa",
        KeyAlgorithm = "P-384",
        ValidityDays = 7305,
    };

    /// <summary>The default issuing CA: P-256, 10 years, path length 0 (it issues only end entities).</summary>
    public static AuthorityOptions DefaultIssuing() => new()
    {
        Subject = "CN=MiniCa Issuing CA,O=MiniCa",
        Issuer = "root",
        KeyAlgorithm = "P-256",
        ValidityDays = 3652,
        PathLength = 0,
    };
}

/// <summary>An authority's <c>NameConstraints</c>: subtrees written <c>dns:NAME</c>, <c>ip:CIDR</c>, <c>email:HOST</c> or <c>uri:HOST</c>.</summary>
public sealed class NameConstraintsOptions
{
    /// <summary>Names of a type listed here must lie within one of its entries.</summary>
    public List<string> Permitted { get; set; } = [];

    /// <summary>Names within any of these are refused, even inside a permitted subtree.</summary>
    public List<string> Excluded { get; set; } = [];
}
