using MiniCa.Core.Issuance;
using MiniCa.Core.Profiles;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;

namespace MiniCa.Core.Linting;

/// <summary>What a lint looks at: the certificate, its issuer, the profile it was meant to follow, and the time.</summary>
public sealed class LintContext
{
    private IReadOnlyList<GeneralName>? _subjectAltNames;
    private IReadOnlyList<DerObjectIdentifier>? _extendedKeyUsages;
    private IReadOnlyList<CertificatePolicyStatements.Statement>? _policies;
    private Asn1Sequence? _asn1;
    private X509Certificate? _certificate;
    private bool? _isCa;

    /// <summary>The DER certificate under examination.</summary>
    public required byte[] Der { get; init; }

    /// <summary>The certificate as plain ASN.1, for lints that look beneath what BouncyCastle's model accepts (read once).</summary>
    public Asn1Sequence Asn1 => _asn1 ??= Asn1Sequence.GetInstance(Asn1Object.FromByteArray(Der));

    /// <summary>The parsed certificate (parsed on first use; a structure BouncyCastle refuses throws).</summary>
    public X509Certificate Certificate => _certificate ??= new X509Certificate(X509CertificateStructure.GetInstance(Asn1));

    /// <summary>The issuing CA's certificate; <see langword="null"/> for a self-signed certificate (its own issuer).</summary>
    public X509Certificate? IssuerCertificate { get; init; }

    /// <summary>The issuing CA's certificate (the certificate itself when self-signed).</summary>
    public X509Certificate Issuer => IssuerCertificate ?? Certificate;

    /// <summary>Whether the certificate is its own issuer.</summary>
    public bool IsSelfSigned => IssuerCertificate is null;

    /// <summary>The profile the certificate was built from; <see langword="null"/> for CA certificates.</summary>
    public CertificateProfile? Profile { get; init; }

    /// <summary>Issuance time; time-dependent rules (BR validity limits) are decided by it.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>The TBSCertificate.</summary>
    public TbsCertificateStructure Tbs => Certificate.TbsCertificate;

    /// <summary>Whether basicConstraints says cA.</summary>
    public bool IsCa => _isCa ??= Certificate.GetBasicConstraints() >= 0;

    /// <summary>An extension, or <see langword="null"/>.</summary>
    public X509Extension? Extension(DerObjectIdentifier oid) => Tbs.Extensions?.GetExtension(oid);

    /// <summary>The subjectAltName entries (empty when there is no extension).</summary>
    public IReadOnlyList<GeneralName> SubjectAltNames => _subjectAltNames ??=
        Extension(X509Extensions.SubjectAlternativeName) is { } san ? GeneralNames.GetInstance(san.GetParsedValue()).GetNames() : [];

    /// <summary>The dNSName entries of the subjectAltName.</summary>
    public IEnumerable<string> DnsNames => SubjectAltNames.Where(n => n.TagNo == GeneralName.DnsName).Select(n => DerIA5String.GetInstance(n.Name).GetString());

    /// <summary>The extendedKeyUsage purposes.</summary>
    public IReadOnlyList<DerObjectIdentifier> ExtendedKeyUsages => _extendedKeyUsages ??=
        Extension(X509Extensions.ExtendedKeyUsage) is { } eku
            ? Asn1Sequence.GetInstance(eku.GetParsedValue()).Cast<Asn1Encodable>().Select(DerObjectIdentifier.GetInstance).ToList()
            : [];

    /// <summary>The certificatePolicies entries, in order (empty when there is no extension).</summary>
    public IReadOnlyList<CertificatePolicyStatements.Statement> CertificatePolicies => _policies ??=
        Extension(X509Extensions.CertificatePolicies) is { } policies ? CertificatePolicyStatements.Read(policies.GetParsedValue()) : [];

    /// <summary>Whether the certificate is for TLS servers (an id-kp-serverAuth EKU).</summary>
    public bool IsTlsServer => ExtendedKeyUsages.Any(o => o.Equals(KeyPurposeID.id_kp_serverAuth));
}
