using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Issuance;
using MiniCa.Core.Profiles;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace MiniCa.Unit.Tests.Linting;

/// <summary>
/// Every part of a TBSCertificate, editable, so a fixture can break exactly one rule. Built by hand (not through
/// BouncyCastle's generators) so that it can also express what those refuse: duplicate extensions, wrong versions,
/// wrong time encodings.
/// </summary>
internal sealed record TbsSpec
{
    public int Version { get; init; } = 3;
    public required BigInteger Serial { get; init; }
    public required AlgorithmIdentifier Signature { get; init; }
    public AlgorithmIdentifier? OuterSignature { get; init; }
    public required X509Name Issuer { get; init; }
    public required Time NotBefore { get; init; }
    public required Time NotAfter { get; init; }
    public required X509Name Subject { get; init; }
    public required SubjectPublicKeyInfo PublicKey { get; init; }
    public required IReadOnlyList<(DerObjectIdentifier Oid, bool Critical, Asn1Encodable Value)> Extensions { get; init; }

    public TbsSpec Without(DerObjectIdentifier oid) => this with { Extensions = Extensions.Where(e => !e.Oid.Equals(oid)).ToList() };

    public TbsSpec With(DerObjectIdentifier oid, bool critical, Asn1Encodable value) =>
        this with { Extensions = Extensions.Where(e => !e.Oid.Equals(oid)).Append((oid, critical, value)).ToList() };

    public TbsSpec Critical(DerObjectIdentifier oid, bool critical) =>
        this with { Extensions = Extensions.Select(e => e.Oid.Equals(oid) ? (e.Oid, critical, e.Value) : e).ToList() };

    public byte[] TbsDer()
    {
        var fields = new Asn1EncodableVector();
        if (Version != 1)
        {
            fields.Add(new DerTaggedObject(true, 0, DerInteger.ValueOf(Version - 1)));
        }

        fields.Add(new DerInteger(Serial));
        fields.Add(Signature);
        fields.Add(Issuer);
        fields.Add(new DerSequence(NotBefore, NotAfter));
        fields.Add(Subject);
        fields.Add(PublicKey);
        if (Extensions.Count > 0)
        {
            var extensions = Extensions.Select(e => (Asn1Encodable)new DerSequence(
                e.Critical ? new Asn1Encodable[] { e.Oid, DerBoolean.True, new DerOctetString(e.Value) } : [e.Oid, new DerOctetString(e.Value)]));
            fields.Add(new DerTaggedObject(true, 3, new DerSequence(extensions.ToArray())));
        }

        return new DerSequence(fields).GetDerEncoded();
    }
}

/// <summary>Software keys, an issuing CA and good subscriber certificates to break; no HSM (pure lint logic).</summary>
internal static class CertificateFixtures
{
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    public static readonly AsymmetricCipherKeyPair IssuerKey = Ec(SecObjectIdentifiers.SecP256r1);

    public static readonly AsymmetricCipherKeyPair SubjectKey = Ec(SecObjectIdentifiers.SecP256r1);

    public static readonly X509Certificate Issuer = BuildIssuer();

    /// <summary>The same CA (key, subject) with nameConstraints: dns:example.com, ip:192.0.2.0/24 and email:example.com permitted, dns:secret.example.com excluded.</summary>
    public static readonly X509Certificate ConstrainedIssuer = BuildIssuer(AuthorityNameConstraints.Build(new NameConstraintsOptions
    {
        Permitted = ["dns:example.com", "ip:192.0.2.0/24", "email:example.com"],
        Excluded = ["dns:secret.example.com"],
    }));

    /// <summary>The same CA conveying the certificate policies 1.3.6.1.4.1.55555.1.1 and 1.3.6.1.4.1.55555.1.2.</summary>
    public static readonly X509Certificate PolicyIssuer = BuildIssuer(policies: CertificatePolicyStatements.Build([
        new CertificatePolicyEntry { Oid = "1.3.6.1.4.1.55555.1.1", Cps = "https://pki.example.com/cps" },
        new CertificatePolicyEntry { Oid = "1.3.6.1.4.1.55555.1.2" },
    ]));

    /// <summary>The same CA conveying <paramref name="oids"/>.</summary>
    public static X509Certificate IssuerConveying(params string[] oids) =>
        BuildIssuer(policies: CertificatePolicyStatements.Build(oids.Select(o => new CertificatePolicyEntry { Oid = o }).ToList()));

    /// <summary>The same CA conveying anyPolicy.</summary>
    public static readonly X509Certificate AnyPolicyIssuer = BuildIssuer(policies: CertificatePolicyStatements.Build([new CertificatePolicyEntry { Oid = "anyPolicy" }]));

    /// <summary>A TLS server profile asserting 1.3.6.1.4.1.55555.1.1, with a CPS pointer and a notice.</summary>
    public static CertificateProfile PolicyProfile { get; } = Profile("lint-tls-policy", """
        {
          "description": "lint fixture",
          "validity": { "maxDays": 90 },
          "keyUsage": [ "digitalSignature", "keyEncipherment" ],
          "extendedKeyUsage": [ "serverAuth" ],
          "identifiers": { "dns": { "allowed": true, "wildcards": true }, "ip": { "allowed": true } },
          "certificatePolicies": [ { "oid": "1.3.6.1.4.1.55555.1.1", "cps": "https://pki.example.com/cps", "notice": "For internal services only" } ]
        }
        """);

    /// <summary>A TLS server profile like the shipped one, but strict: no internal names.</summary>
    public static CertificateProfile TlsServer { get; } = Profile("lint-tls-server", """
        {
          "description": "lint fixture",
          "validity": { "maxDays": 90 },
          "keyUsage": [ "digitalSignature", "keyEncipherment" ],
          "extendedKeyUsage": [ "serverAuth" ],
          "identifiers": { "dns": { "allowed": true, "wildcards": true }, "ip": { "allowed": true } }
        }
        """);

    public static CertificateProfile Profile(string name, string json)
    {
        var problems = new List<string>();
        return ProfileLoader.Parse(name + ".json", json, problems) ?? throw new InvalidOperationException(string.Join("; ", problems));
    }

    public static AsymmetricCipherKeyPair Ec(DerObjectIdentifier curve)
    {
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(curve, new SecureRandom()));
        return generator.GenerateKeyPair();
    }

    public static SubjectPublicKeyInfo Spki(AsymmetricKeyParameter key) => SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key);

    /// <summary>The spec of a good certificate, made by MiniCa's own builder.</summary>
    public static TbsSpec Good(CertificateProfile? profile = null, params string[] dnsNames)
    {
        profile ??= TlsServer;
        var names = dnsNames.Length > 0 ? dnsNames : ["www.example.com", "api.example.com"];
        var tbs = LeafCertificateBuilder.BuildTbs(new LeafCertificateRequest
        {
            Serial = new BigInteger(1, Convert.FromHexString("5a3c00112233445566778899aabbccdd")),
            Profile = profile,
            PublicKey = Spki(SubjectKey.Public),
            Identifiers = names.Select(n => new Identifier(n.Contains('@', StringComparison.Ordinal) ? IdentifierType.Email : IdentifierType.Dns, n)).ToList(),
            CommonName = names[0],
            Issuer = Issuer,
            IssuerName = "issuing",
            SignatureAlgorithm = SignatureAlgorithm.EcdsaSha256,
            Now = Now,
            PublicBaseUrl = new Uri("http://ca.example.com/"),
        });
        return FromTbs(tbs);
    }

    public static TbsSpec FromTbs(TbsCertificateStructure tbs) => new()
    {
        Version = tbs.Version,
        Serial = tbs.SerialNumber.Value,
        Signature = tbs.Signature,
        Issuer = tbs.Issuer,
        NotBefore = tbs.StartDate,
        NotAfter = tbs.EndDate,
        Subject = tbs.Subject,
        PublicKey = tbs.SubjectPublicKeyInfo,
        Extensions = tbs.Extensions.ExtensionOids
            .Select(oid => (oid, tbs.Extensions.GetExtension(oid).IsCritical, (Asn1Encodable)Asn1Object.FromByteArray(tbs.Extensions.GetExtension(oid).Value.GetOctets())))
            .ToList(),
    };

    /// <summary>Signs the spec with the issuer's software key and returns the certificate as a PEM fixture.</summary>
    public static string Pem(TbsSpec spec)
    {
        var tbs = spec.TbsDer();
        var signer = SignerUtilities.GetSigner("SHA-256withECDSA");
        signer.Init(true, IssuerKey.Private);
        signer.BlockUpdate(tbs, 0, tbs.Length);
        var certificate = new DerSequence(Asn1Object.FromByteArray(tbs), spec.OuterSignature ?? spec.Signature, new DerBitString(signer.GenerateSignature()));
        using var text = new StringWriter();
        using (var writer = new PemWriter(text))
        {
            writer.WriteObject(new Org.BouncyCastle.Utilities.IO.Pem.PemObject("CERTIFICATE", certificate.GetDerEncoded()));
        }

        return text.ToString();
    }

    /// <summary>The DER bytes of a PEM fixture.</summary>
    public static byte[] Der(string pem)
    {
        using var reader = new PemReader(new StringReader(pem));
        return reader.ReadPemObject().Content;
    }

    private static X509Certificate BuildIssuer(NameConstraints? constraints = null, Asn1Encodable? policies = null)
    {
        var spki = Spki(IssuerKey.Public);
        var tbs = AuthorityCertificateBuilder.BuildTbs(new AuthorityCertificateRequest
        {
            Serial = new BigInteger(1, Convert.FromHexString("7a1b2c3d4e5f60718293a4b5c6d7e8f9")),
            Subject = new X509Name("CN=Lint Fixture CA,O=MiniCa Tests"),
            SubjectPublicKey = spki,
            NotBefore = Now.AddDays(-30),
            NotAfter = Now.AddDays(3650),
            PathLength = 0,
            SignatureAlgorithm = SignatureAlgorithm.EcdsaSha256,
            PublicBaseUrl = new Uri("http://ca.example.com/"),
            NameConstraints = constraints,
            CertificatePolicies = policies,
        });
        var signer = SignerUtilities.GetSigner("SHA-256withECDSA");
        var der = tbs.GetDerEncoded();
        signer.Init(true, IssuerKey.Private);
        signer.BlockUpdate(der, 0, der.Length);
        return AuthorityCertificateBuilder.Assemble(tbs, signer.GenerateSignature(), IssuerKey.Public);
    }
}
