using System.Security.Cryptography;
using MiniCa.Core.Errors;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;

namespace MiniCa.Core.Authorities;

/// <summary>What goes into a CA certificate.</summary>
public sealed record AuthorityCertificateRequest
{
    /// <summary>The certificate's serial number (positive, at most 20 octets).</summary>
    public required BigInteger Serial { get; init; }

    /// <summary>The CA's subject DN.</summary>
    public required X509Name Subject { get; init; }

    /// <summary>The CA's public key.</summary>
    public required SubjectPublicKeyInfo SubjectPublicKey { get; init; }

    /// <summary>The issuer's certificate; <see langword="null"/> for a self-signed root.</summary>
    public X509Certificate? IssuerCertificate { get; init; }

    /// <summary>The issuer's configured name (for the AIA and CRL DP URLs); <see langword="null"/> for a root.</summary>
    public string? IssuerName { get; init; }

    /// <summary>Start of validity.</summary>
    public required DateTimeOffset NotBefore { get; init; }

    /// <summary>End of validity.</summary>
    public required DateTimeOffset NotAfter { get; init; }

    /// <summary>basicConstraints pathLenConstraint, or <see langword="null"/> for none.</summary>
    public int? PathLength { get; init; }

    /// <summary>The algorithm the issuer signs with.</summary>
    public required SignatureAlgorithm SignatureAlgorithm { get; init; }

    /// <summary>Base of the CRL DP and AIA URLs placed in subordinate CA certificates.</summary>
    public required Uri PublicBaseUrl { get; init; }

    /// <summary>The names the authority may certify (RFC 5280 §4.2.1.10); <see langword="null"/> for none.</summary>
    public NameConstraints? NameConstraints { get; init; }

    /// <summary>The certificatePolicies extension's value (RFC 5280 §4.2.1.4); <see langword="null"/> for none.</summary>
    public Asn1Encodable? CertificatePolicies { get; init; }
}

/// <summary>
/// Builds CA certificates in two steps, so that what is signed can be recorded first: <see cref="BuildTbs"/>
/// returns the to-be-signed structure; <see cref="Assemble"/> joins it with the HSM's signature and proves the
/// signature with the issuer's public key.
/// </summary>
public static class AuthorityCertificateBuilder
{
    /// <summary>Builds the TBSCertificate of a CA certificate (RFC 5280 §4.1).</summary>
    public static TbsCertificateStructure BuildTbs(AuthorityCertificateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Serial.SignValue <= 0 || request.Serial.ToByteArray().Length > 20)
        {
            // RFC 5280 §4.1.2.2: positive, at most 20 octets.
            throw new CaException(CaErrorKind.InvalidState, "A serial number must be positive and at most 20 octets.");
        }

        if (request.NotAfter <= request.NotBefore)
        {
            throw new CaException(CaErrorKind.InvalidState, "The certificate's validity ends before it starts.");
        }

        var issuer = request.IssuerCertificate;
        var subjectKeyId = KeyIdentifier(request.SubjectPublicKey);
        // A root's AKI names its own key (BR §7.1.2.1.3 recommends it; OpenSSL 3 adds it too).
        var authorityKeyId = issuer is null ? subjectKeyId : KeyIdentifierOf(issuer);

        var extensions = new X509ExtensionsGenerator();
        // RFC 5280 §4.2.1.9: basicConstraints MUST be critical in CA certificates.
        extensions.AddExtension(
            X509Extensions.BasicConstraints,
            critical: true,
            request.PathLength is int pathLength ? new BasicConstraints(pathLength) : new BasicConstraints(cA: true));
        // RFC 5280 §4.2.1.3: keyUsage SHOULD be critical; keyCertSign and cRLSign for a CA that signs certificates and CRLs.
        extensions.AddExtension(X509Extensions.KeyUsage, critical: true, new KeyUsage(KeyUsage.KeyCertSign | KeyUsage.CrlSign));
        // RFC 5280 §4.2.1.2: CA certificates MUST carry subjectKeyIdentifier.
        extensions.AddExtension(X509Extensions.SubjectKeyIdentifier, critical: false, new SubjectKeyIdentifier(subjectKeyId));
        // RFC 5280 §4.2.1.1: authorityKeyIdentifier MUST be present except in self-signed certificates.
        extensions.AddExtension(X509Extensions.AuthorityKeyIdentifier, critical: false, new AuthorityKeyIdentifier(authorityKeyId));

        if (request.NameConstraints is { } constraints)
        {
            // RFC 5280 §4.2.1.10: conforming CAs MUST mark this extension critical.
            extensions.AddExtension(X509Extensions.NameConstraints, critical: true, constraints);
        }

        if (request.CertificatePolicies is { } policies)
        {
            // RFC 5280 §4.2.1.4: in a CA certificate, the policies paths through it may carry. Not critical (BR §7.1.2.10.5).
            extensions.AddExtension(X509Extensions.CertificatePolicies, critical: false, policies);
        }

        if (issuer is not null && request.IssuerName is not null)
        {
            // BR §7.1.2.2: subordinate CA certificates point at their issuer's CRL and certificate.
            var crl = new Uri(request.PublicBaseUrl, $"crl/{request.IssuerName}.crl").AbsoluteUri;
            var caIssuers = new Uri(request.PublicBaseUrl, $"ca/{request.IssuerName}.crt").AbsoluteUri;
            extensions.AddExtension(
                X509Extensions.CrlDistributionPoints,
                critical: false,
                new CrlDistPoint([
                    new DistributionPoint(
                        new DistributionPointName(new GeneralNames(new GeneralName(GeneralName.UniformResourceIdentifier, crl))),
                        null,
                        null),
                ]));
            extensions.AddExtension(
                X509Extensions.AuthorityInfoAccess,
                critical: false,
                new AuthorityInformationAccess(
                    X509ObjectIdentifiers.IdADCAIssuers,
                    new GeneralName(GeneralName.UniformResourceIdentifier, caIssuers)));
        }

        var tbs = new V3TbsCertificateGenerator();
        tbs.SetSerialNumber(new DerInteger(request.Serial));
        tbs.SetSignature(SignatureAlgorithms.Identifier(request.SignatureAlgorithm));
        tbs.SetIssuer(issuer?.SubjectDN ?? request.Subject);
        // Time picks UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); whole seconds only.
        tbs.SetStartDate(new Time(WholeSeconds(request.NotBefore).UtcDateTime));
        tbs.SetEndDate(new Time(WholeSeconds(request.NotAfter).UtcDateTime));
        tbs.SetSubject(request.Subject);
        tbs.SetSubjectPublicKeyInfo(request.SubjectPublicKey);
        tbs.SetExtensions(extensions.Generate());
        return tbs.GenerateTbsCertificate();
    }

    /// <summary>
    /// Joins <paramref name="tbs"/> with the signature made over its DER bytes and checks the signature with
    /// <paramref name="issuerPublicKey"/>; a certificate that does not verify is never returned.
    /// </summary>
    public static X509Certificate Assemble(TbsCertificateStructure tbs, byte[] signature, Org.BouncyCastle.Crypto.AsymmetricKeyParameter issuerPublicKey)
    {
        ArgumentNullException.ThrowIfNull(tbs);
        ArgumentNullException.ThrowIfNull(signature);
        var certificate = new X509Certificate(new X509CertificateStructure(tbs, tbs.Signature, new DerBitString(signature)));
        try
        {
            certificate.Verify(issuerPublicKey);
        }
        catch (Exception ex) when (ex is Org.BouncyCastle.Security.InvalidKeyException
                                       or Org.BouncyCastle.Security.Certificates.CertificateException
                                       or Org.BouncyCastle.Security.SignatureException)
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, "The HSM's signature does not verify with the issuer's public key.", ex);
        }

        return certificate;
    }

    /// <summary>
    /// The key identifier of a public key: the leftmost 160 bits of the SHA-256 hash of the subjectPublicKey
    /// BIT STRING (RFC 7093 §2 method 1), avoiding SHA-1 for FIPS deployments.
    /// </summary>
    public static byte[] KeyIdentifier(SubjectPublicKeyInfo publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        return SHA256.HashData(publicKey.PublicKey.GetBytes())[..20];
    }

    /// <summary>The key identifier of a CA certificate: its SKI, or one computed from its key when it has none.</summary>
    public static byte[] KeyIdentifierOf(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var ski = certificate.GetExtensionValue(X509Extensions.SubjectKeyIdentifier);
        return ski is null
            ? KeyIdentifier(certificate.SubjectPublicKeyInfo)
            : SubjectKeyIdentifier.GetInstance(ski.GetOctets()).GetKeyIdentifier();
    }

    /// <summary>
    /// <paramref name="value"/> without its fraction of a second: RFC 5280 §4.1.2.5.1/§4.1.2.5.2 validity times
    /// carry whole seconds, and what is recorded must equal what is encoded.
    /// </summary>
    public static DateTimeOffset WholeSeconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
