using System.Net;
using MiniCa.Core.Authorities;
using MiniCa.Core.Errors;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Profiles;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;

namespace MiniCa.Core.Issuance;

/// <summary>Everything a subscriber certificate is built from.</summary>
public sealed record LeafCertificateRequest
{
    /// <summary>The serial number (positive, at most 20 octets).</summary>
    public required BigInteger Serial { get; init; }

    /// <summary>The profile the certificate follows.</summary>
    public required CertificateProfile Profile { get; init; }

    /// <summary>The subscriber's public key.</summary>
    public required SubjectPublicKeyInfo PublicKey { get; init; }

    /// <summary>The identifiers to certify, in order.</summary>
    public required IReadOnlyList<Identifier> Identifiers { get; init; }

    /// <summary>The subject CN, or <see langword="null"/>.</summary>
    public string? CommonName { get; init; }

    /// <summary>The issuing CA's certificate.</summary>
    public required X509Certificate Issuer { get; init; }

    /// <summary>The issuing CA's configured name (for its URLs).</summary>
    public required string IssuerName { get; init; }

    /// <summary>The issuer's signature algorithm.</summary>
    public required SignatureAlgorithm SignatureAlgorithm { get; init; }

    /// <summary>The issuance time.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>Requested validity in days; the profile's default or maximum when absent.</summary>
    public int? ValidityDays { get; init; }

    /// <summary>Base of the AIA, OCSP and CRL DP URLs.</summary>
    public required Uri PublicBaseUrl { get; init; }

    /// <summary>Whether delta CRLs are published (the certificate then carries a Freshest CRL pointer).</summary>
    public bool DeltaCrls { get; init; }
}

/// <summary>Builds the TBSCertificate of a subscriber (end-entity) certificate from its profile.</summary>
public static class LeafCertificateBuilder
{
    /// <summary>Subject attributes in the order they appear in a DN, most significant first.</summary>
    private static readonly string[] FixedAttributeOrder = ["C", "ST", "L", "O", "OU"];

    /// <summary>Builds the TBSCertificate.</summary>
    public static TbsCertificateStructure BuildTbs(LeafCertificateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var profile = request.Profile;
        var days = request.ValidityDays ?? profile.Validity.DefaultDays ?? profile.Validity.MaxDays;
        if (days < 1 || days > profile.Validity.MaxDays)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Validity of {days} days is outside 1..{profile.Validity.MaxDays} for profile '{profile.Name}'.");
        }

        // The backdate counts towards the validity period (BR §6.3.2), so notAfter is measured from notBefore.
        var notBefore = AuthorityCertificateBuilder.WholeSeconds(request.Now.AddMinutes(-profile.Validity.BackdateMinutes));
        var notAfter = notBefore.AddDays(days);
        var issuerNotAfter = new DateTimeOffset(request.Issuer.NotAfter, TimeSpan.Zero);
        if (notAfter > issuerNotAfter)
        {
            // Never outlive the issuing CA: the chain would stop validating first (RFC 5280 §6.1.3 (a)(2)).
            notAfter = issuerNotAfter;
        }

        var subject = BuildSubject(profile, request.CommonName);
        var extensions = new X509ExtensionsGenerator();
        var subjectKeyId = AuthorityCertificateBuilder.KeyIdentifier(request.PublicKey);
        var issuerSki = AuthorityCertificateBuilder.KeyIdentifierOf(request.Issuer);

        // BR §7.1.2.7.8: cA false; marked critical like the CA certificates.
        extensions.AddExtension(X509Extensions.BasicConstraints, critical: true, new BasicConstraints(cA: false));
        extensions.AddExtension(X509Extensions.KeyUsage, critical: true, new KeyUsage(KeyUsageFor(profile, request.PublicKey)));
        if (profile.ExtendedKeyUsage.Count > 0)
        {
            // BR §7.1.2.7.10: not critical.
            extensions.AddExtension(
                X509Extensions.ExtendedKeyUsage,
                critical: false,
                new DerSequence(profile.ExtendedKeyUsage.Select(e => (Asn1Encodable)ProfileVocabulary.ExtendedKeyUsageOid(e)!).ToArray()));
        }

        // RFC 5280 §4.2.1.2 (SHOULD for end entities) and §4.2.1.1 (MUST).
        extensions.AddExtension(X509Extensions.SubjectKeyIdentifier, critical: false, new SubjectKeyIdentifier(subjectKeyId));
        extensions.AddExtension(X509Extensions.AuthorityKeyIdentifier, critical: false, new AuthorityKeyIdentifier(issuerSki));

        if (request.Identifiers.Count > 0)
        {
            // RFC 5280 §4.2.1.6: critical when the subject is empty.
            var emptySubject = subject.GetOidList().Count == 0;
            extensions.AddExtension(
                X509Extensions.SubjectAlternativeName,
                critical: emptySubject,
                new GeneralNames(request.Identifiers.Select(ToGeneralName).ToArray()));
        }

        if (CertificatePolicyStatements.Build(profile.CertificatePolicies) is { } policies)
        {
            // RFC 5280 §4.2.1.4; BR §7.1.2.7.9: not critical.
            extensions.AddExtension(X509Extensions.CertificatePolicies, critical: false, policies);
        }

        AddUrls(extensions, profile.Urls, request);
        if (profile.OcspNoCheck)
        {
            // RFC 6960 §4.2.2.2.1: the extension value is NULL.
            extensions.AddExtension(new DerObjectIdentifier("1.3.6.1.5.5.7.48.1.5"), critical: false, DerNull.Instance);
        }

        var tbs = new V3TbsCertificateGenerator();
        tbs.SetSerialNumber(new DerInteger(request.Serial));
        tbs.SetSignature(SignatureAlgorithms.Identifier(request.SignatureAlgorithm));
        tbs.SetIssuer(request.Issuer.SubjectDN);
        tbs.SetStartDate(new Time(notBefore.UtcDateTime));
        tbs.SetEndDate(new Time(notAfter.UtcDateTime));
        tbs.SetSubject(subject);
        tbs.SetSubjectPublicKeyInfo(request.PublicKey);
        tbs.SetExtensions(extensions.Generate());
        return tbs.GenerateTbsCertificate();
    }

    /// <summary>
    /// The profile's key usages for this key: keyEncipherment only for RSA keys (BR §7.1.2.7.11 forbids it for
    /// ECC), and only digitalSignature-type usages for Ed25519 (RFC 8410 §5).
    /// </summary>
    public static int KeyUsageFor(CertificateProfile profile, SubjectPublicKeyInfo publicKey)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(publicKey);
        var bits = ProfileVocabulary.KeyUsageBits(profile.KeyUsage);
        var algorithm = publicKey.Algorithm.Algorithm.Id;
        if (algorithm != "1.2.840.113549.1.1.1")
        {
            bits &= ~(KeyUsage.KeyEncipherment | KeyUsage.DataEncipherment);
        }

        if (algorithm == "1.3.101.112")
        {
            bits &= KeyUsage.DigitalSignature | KeyUsage.NonRepudiation;
        }

        return bits == 0 ? KeyUsage.DigitalSignature : bits;
    }

    private static X509Name BuildSubject(CertificateProfile profile, string? commonName)
    {
        var oids = new List<DerObjectIdentifier>();
        var values = new List<string>();
        foreach (var attribute in FixedAttributeOrder.Concat(profile.Subject.Fixed.Keys.Where(k => !FixedAttributeOrder.Contains(k, StringComparer.OrdinalIgnoreCase))))
        {
            var entry = profile.Subject.Fixed.FirstOrDefault(kv => string.Equals(kv.Key, attribute, StringComparison.OrdinalIgnoreCase));
            if (entry.Key is null)
            {
                continue;
            }

            oids.Add((DerObjectIdentifier)X509Name.DefaultLookup[entry.Key.ToLowerInvariant()]);
            values.Add(entry.Value);
        }

        if (commonName is not null)
        {
            oids.Add(X509Name.CN);
            values.Add(commonName);
        }

        return new X509Name(oids, values);
    }

    /// <summary>The subjectAltName entry of <paramref name="identifier"/>.</summary>
    public static GeneralName ToGeneralName(Identifier identifier) => identifier.Type switch
    {
        IdentifierType.Dns => new GeneralName(GeneralName.DnsName, identifier.Value),
        IdentifierType.Ip => new GeneralName(GeneralName.IPAddress, new DerOctetString(IPAddress.Parse(identifier.Value).GetAddressBytes())),
        IdentifierType.Email => new GeneralName(GeneralName.Rfc822Name, identifier.Value),
        IdentifierType.Uri => new GeneralName(GeneralName.UniformResourceIdentifier, identifier.Value),
        _ => throw new ArgumentOutOfRangeException(nameof(identifier)),
    };

    private static void AddUrls(X509ExtensionsGenerator extensions, UrlRules urls, LeafCertificateRequest request)
    {
        var access = new List<AccessDescription>();
        if (urls.CaIssuers)
        {
            access.Add(new AccessDescription(
                X509ObjectIdentifiers.IdADCAIssuers,
                new GeneralName(GeneralName.UniformResourceIdentifier, new Uri(request.PublicBaseUrl, $"ca/{request.IssuerName}.crt").AbsoluteUri)));
        }

        if (urls.Ocsp)
        {
            access.Add(new AccessDescription(
                X509ObjectIdentifiers.IdADOcsp,
                new GeneralName(GeneralName.UniformResourceIdentifier, new Uri(request.PublicBaseUrl, "ocsp").AbsoluteUri)));
        }

        if (access.Count > 0)
        {
            extensions.AddExtension(X509Extensions.AuthorityInfoAccess, critical: false, new DerSequence(access.ToArray()));
        }

        if (urls.CrlDistributionPoint)
        {
            var crl = new Uri(request.PublicBaseUrl, $"crl/{request.IssuerName}.crl").AbsoluteUri;
            extensions.AddExtension(
                X509Extensions.CrlDistributionPoints,
                critical: false,
                new CrlDistPoint([new DistributionPoint(new DistributionPointName(new GeneralNames(new GeneralName(GeneralName.UniformResourceIdentifier, crl))), null, null)]));
            if (request.DeltaCrls)
            {
                // RFC 5280 §4.2.1.15: where the delta CRLs for this certificate are.
                var delta = new Uri(request.PublicBaseUrl, $"crl/{request.IssuerName}-delta.crl").AbsoluteUri;
                extensions.AddExtension(
                    X509Extensions.FreshestCrl,
                    critical: false,
                    new CrlDistPoint([new DistributionPoint(new DistributionPointName(new GeneralNames(new GeneralName(GeneralName.UniformResourceIdentifier, delta))), null, null)]));
            }
        }
    }
}
