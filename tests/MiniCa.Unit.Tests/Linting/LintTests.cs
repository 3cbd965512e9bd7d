using MiniCa.Core.Linting;
using MiniCa.Core.Profiles;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using static MiniCa.Unit.Tests.Linting.CertificateFixtures;

namespace MiniCa.Unit.Tests.Linting;

/// <summary>Each lint fires on a PEM fixture that breaks its rule and stays silent on good certificates.</summary>
public sealed class LintTests
{
    private sealed record Fixture(string Pem, CertificateProfile? Profile, DateTimeOffset Now, Org.BouncyCastle.X509.X509Certificate? IssuedBy = null);

    private static Fixture Ee(TbsSpec spec, CertificateProfile? profile = null, DateTimeOffset? now = null) => new(Pem(spec), profile ?? TlsServer, now ?? Now);

    private static Fixture Ca(TbsSpec spec) => new(Pem(spec), null, Now);

    private static TbsSpec CaSpec() => Good() with { Subject = new X509Name("CN=Sub CA"), Extensions = [] }
        is var spec
            ? spec.With(X509Extensions.BasicConstraints, true, new BasicConstraints(0))
                .With(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.KeyCertSign | KeyUsage.CrlSign))
                .With(X509Extensions.SubjectKeyIdentifier, false, new SubjectKeyIdentifier(new byte[20]))
                .With(X509Extensions.AuthorityKeyIdentifier, false, Good().Extensions.Single(e => e.Oid.Equals(X509Extensions.AuthorityKeyIdentifier)).Value)
            : throw new InvalidOperationException();

    private static GeneralNames Names(params GeneralName[] names) => new(names);

    private static readonly Lazy<BigInteger> RsaModulus2048 = new(() =>
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(65537), new SecureRandom(), 2048, 80));
        return ((RsaKeyParameters)generator.GenerateKeyPair().Public).Modulus;
    });

    private static SubjectPublicKeyInfo Rsa(BigInteger modulus, long exponent) =>
        new(new AlgorithmIdentifier(PkcsObjectIdentifiers.RsaEncryption, DerNull.Instance), new RsaPublicKeyStructure(modulus, BigInteger.ValueOf(exponent)));

    /// <summary>A certificatePolicies value, written by hand so that it can break what MiniCa's builder never writes.</summary>
    private static DerSequence Policies(params Asn1Encodable[] information) => new(information);

    private static DerSequence Policy(string oid, params Asn1Encodable[] qualifiers) =>
        qualifiers.Length == 0 ? new DerSequence(new DerObjectIdentifier(oid)) : new DerSequence(new DerObjectIdentifier(oid), new DerSequence(qualifiers));

    private static DerSequence Notice(Asn1Encodable explicitText) => new(new DerObjectIdentifier("1.3.6.1.5.5.7.2.2"), new DerSequence(explicitText));

    private static DerSequence Cps(string uri) => new(new DerObjectIdentifier("1.3.6.1.5.5.7.2.1"), new DerIA5String(uri));

    private static TbsSpec WithPolicies(DerSequence policies) => Good(PolicyProfile).With(X509Extensions.CertificatePolicies, false, policies);

    private static readonly Dictionary<string, Func<Fixture>> Broken = new(StringComparer.Ordinal)
    {
        ["e_cert_policy_duplicate"] = () => Ee(WithPolicies(Policies(Policy("1.3.6.1.4.1.55555.1.1"), Policy("1.3.6.1.4.1.55555.1.1"))), PolicyProfile),
        ["e_cert_policy_explicit_text_too_long"] = () => Ee(WithPolicies(Policies(Policy("1.3.6.1.4.1.55555.1.1", Notice(new DerUtf8String(new string('n', 201)))))), PolicyProfile),
        ["e_cert_policy_explicit_text_ia5_string"] = () => Ee(WithPolicies(Policies(Policy("1.3.6.1.4.1.55555.1.1", Notice(new DerIA5String("For internal services only"))))), PolicyProfile),
        ["e_cert_policy_cps_not_http"] = () => Ee(WithPolicies(Policies(Policy("1.3.6.1.4.1.55555.1.1", Cps("ftp://pki.example.com/cps")))), PolicyProfile),
        ["e_sub_cert_any_policy"] = () => Ee(WithPolicies(Policies(Policy("2.5.29.32.0"))), PolicyProfile),
        // The fixture profile asserts no policy; the certificate asserts one.
        ["e_cert_policy_profile_mismatch"] = () => Ee(Good().With(X509Extensions.CertificatePolicies, false, Policies(Policy("1.3.6.1.4.1.55555.1.1")))),
        ["e_cert_policy_not_in_issuer"] = () => Ee(Good(PolicyProfile), PolicyProfile) with { IssuedBy = IssuerConveying("1.3.6.1.4.1.55555.1.2") },
        ["e_serial_not_positive"] = () => Ee(Good() with { Serial = BigInteger.ValueOf(-5) }),
        ["e_serial_too_long"] = () => Ee(Good() with { Serial = new BigInteger(1, Enumerable.Repeat((byte)0x5a, 21).ToArray()) }),
        ["e_serial_low_entropy"] = () => Ee(Good() with { Serial = BigInteger.ValueOf(12345) }),
        // BouncyCastle refuses to parse a v1/v2 certificate with extensions (that is e_der_invalid); a v1 one without them reaches the lint.
        ["e_version_not_v3"] = () => Ee(Good() with { Version = 1, Extensions = [] }),
        ["e_signature_algorithm_fields_differ"] = () => Ee(Good() with { OuterSignature = new AlgorithmIdentifier(Org.BouncyCastle.Asn1.X9.X9ObjectIdentifiers.ECDsaWithSha384) }),
        ["e_signature_algorithm_issuer_key_mismatch"] = () => Ee(Good() with { Signature = new AlgorithmIdentifier(PkcsObjectIdentifiers.Sha256WithRsaEncryption, DerNull.Instance) }),
        ["e_issuer_dn_mismatch"] = () => Ee(Good() with { Issuer = new X509Name("CN=Someone Else") }),
        ["e_aki_missing"] = () => Ee(Good().Without(X509Extensions.AuthorityKeyIdentifier)),
        ["e_aki_not_issuer_ski"] = () => Ee(Good().With(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(new byte[20]))),
        ["e_aki_critical"] = () => Ee(Good().Critical(X509Extensions.AuthorityKeyIdentifier, true)),
        ["w_ski_missing"] = () => Ee(Good().Without(X509Extensions.SubjectKeyIdentifier)),
        ["e_ca_ski_missing"] = () => Ca(CaSpec().Without(X509Extensions.SubjectKeyIdentifier)),
        ["e_key_usage_not_critical"] = () => Ee(Good().Critical(X509Extensions.KeyUsage, false)),
        ["e_ca_key_usage_missing"] = () => Ca(CaSpec().With(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.DigitalSignature))),
        ["e_ca_basic_constraints_not_critical"] = () => Ca(CaSpec().Critical(X509Extensions.BasicConstraints, false)),
        ["e_ee_basic_constraints_ca"] = () => Ee(Good().With(X509Extensions.BasicConstraints, true, new BasicConstraints(true))),
        ["e_san_missing"] = () => Ee(Good().Without(X509Extensions.SubjectAlternativeName)),
        ["e_san_empty"] = () => Ee(Good().With(X509Extensions.SubjectAlternativeName, false, new DerSequence())),
        ["e_san_not_critical_empty_subject"] = () => Ee(Good() with { Subject = new X509Name(new List<DerObjectIdentifier>(), new List<string>()) }),
        ["e_subject_empty_without_san"] = () => Ee((Good() with { Subject = new X509Name(new List<DerObjectIdentifier>(), new List<string>()) }).Without(X509Extensions.SubjectAlternativeName)),
        ["e_cn_not_in_san"] = () => Ee(Good() with { Subject = new X509Name("CN=other.example.com") }),
        // X509Name's string constructor refuses long CNs, so the RDN is encoded by hand.
        ["e_cn_too_long"] = () => Ee(Good() with { Subject = X509Name.GetInstance(new DerSequence(new DerSet(new DerSequence(X509Name.CN, new DerUtf8String(new string('a', 60) + ".example.com"))))) }),
        ["e_validity_negative"] = () => Ee(Good() with { NotAfter = new Time(Now.AddDays(-1).UtcDateTime) }),
        ["e_validity_outlives_issuer"] = () => Ee(Good() with { NotAfter = new Time(Issuer.NotAfter.AddDays(1)) }, Profile("long", """{ "description": "x", "validity": { "maxDays": 3650 }, "keyUsage": ["digitalSignature"], "extendedKeyUsage": ["serverAuth"], "identifiers": { "dns": { "allowed": true } } }""")),
        ["e_validity_exceeds_profile"] = () => Ee(Good() with { NotAfter = new Time(Now.AddDays(120).UtcDateTime) }),
        ["w_tls_validity_exceeds_br_maximum"] = () => Ee(Good(), now: new DateTimeOffset(2029, 4, 1, 0, 0, 0, TimeSpan.Zero)),
        ["e_validity_time_encoding"] = () => Ee(Good() with { NotBefore = new Time(new DerGeneralizedTime(Now.UtcDateTime)) }),
        ["e_eku_profile_mismatch"] = () => Ee(Good().With(X509Extensions.ExtendedKeyUsage, false, new DerSequence(KeyPurposeID.id_kp_clientAuth))),
        ["e_eku_any_usage"] = () => Ee(Good().With(X509Extensions.ExtendedKeyUsage, false, new DerSequence(KeyPurposeID.id_kp_serverAuth, KeyPurposeID.AnyExtendedKeyUsage))),
        ["e_key_usage_not_in_profile"] = () => Ee(Good().With(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.DigitalSignature | KeyUsage.KeyAgreement))),
        ["e_rsa_modulus_too_small"] = () => Ee(Good() with { PublicKey = Rsa(RsaModulus2048.Value.ShiftRight(1024), 65537) }),
        ["e_rsa_exponent_invalid"] = () => Ee(Good() with { PublicKey = Rsa(RsaModulus2048.Value, 3) }),
        ["e_ec_curve_not_allowed"] = () => Ee(Good() with { PublicKey = Spki(Ec(SecObjectIdentifiers.SecP256k1).Public) }),
        ["e_ec_key_encipherment"] = () => Ee(Good().With(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.DigitalSignature | KeyUsage.KeyEncipherment))),
        ["e_dns_name_syntax"] = () => Ee(Good(null, "www.example.com", "-bad.example.com")),
        ["e_dns_name_underscore"] = () => Ee(Good(null, "www.example.com", "_srv.example.com")),
        ["e_dns_wildcard_not_leftmost"] = () => Ee(Good(null, "www.example.com", "www.*.example.com")),
        ["e_dns_wildcard_not_allowed"] = () => Ee(Good(null, "www.example.com", "*.example.com"), Profile("nowild", """{ "description": "x", "keyUsage": ["digitalSignature"], "extendedKeyUsage": ["serverAuth"], "identifiers": { "dns": { "allowed": true, "wildcards": false } } }""")),
        ["e_internal_name"] = () => Ee(Good(null, "www.example.com", "printer.local")),
        ["e_ip_address_length"] = () => Ee(Good().With(X509Extensions.SubjectAlternativeName, false, Names(new GeneralName(GeneralName.DnsName, "www.example.com"), new GeneralName(GeneralName.IPAddress, new DerOctetString(new byte[5]))))),
        ["e_name_constraints_violated"] = () => Ee(Good(null, "www.example.com", "www.example.org")) with { IssuedBy = ConstrainedIssuer },
        ["e_duplicate_extension"] = () => Ee(Good() with { Extensions = Good().Extensions.Append(Good().Extensions.Single(e => e.Oid.Equals(X509Extensions.SubjectKeyIdentifier))).ToList() }),
    };

    public static TheoryData<string> LintNames => new(CertificateLinter.Default.Lints.Select(l => l.Name));

    private static IReadOnlyList<LintFinding> Run(Fixture fixture) => CertificateLinter.Default.Run(new LintContext
    {
        Der = Der(fixture.Pem),
        IssuerCertificate = fixture.IssuedBy ?? Issuer,
        Profile = fixture.Profile,
        Now = fixture.Now,
    });

    [Fact]
    public void Default_HasAtLeast25LintsEachNamedAndCited()
    {
        var lints = CertificateLinter.Default.Lints;

        Assert.True(lints.Count >= 25, $"{lints.Count} lints");
        Assert.All(lints, l => Assert.Matches("^[ew]_[a-z0-9_]+$", l.Name));
        Assert.All(lints, l => Assert.Matches("(RFC|BR|MiniCa profile)", l.Citation));
        Assert.Equal(lints.Count, lints.Select(l => l.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(LintNames))]
    public void Lint_FixtureBreakingItsRule_Fires(string lint)
    {
        Assert.True(Broken.TryGetValue(lint, out var make), $"lint {lint} has no fixture");

        var findings = Run(make());

        Assert.Contains(findings, f => f.Lint == lint);
        var finding = findings.First(f => f.Lint == lint);
        Assert.Equal(lint.StartsWith("e_", StringComparison.Ordinal) ? LintSeverity.Error : LintSeverity.Warning, finding.Severity);
    }

    [Theory]
    [MemberData(nameof(LintNames))]
    public void Lint_GoodCertificates_StaySilent(string lint)
    {
        var email = Profile("lint-email", """{ "description": "x", "validity": { "maxDays": 365 }, "keyUsage": ["digitalSignature"], "extendedKeyUsage": ["emailProtection"], "identifiers": { "email": { "allowed": true } } }""");
        var goods = new[]
        {
            Ee(Good()),
            Ee(Good(null, "*.apps.example.com", "example.com")),
            Ee(Good(email, "alice@example.com"), email),
            Ee(Good(null, "www.example.com", "example.com")) with { IssuedBy = ConstrainedIssuer },
            Ee(Good(PolicyProfile), PolicyProfile) with { IssuedBy = PolicyIssuer },
            Ee(Good(PolicyProfile), PolicyProfile) with { IssuedBy = AnyPolicyIssuer },
            Ee(Good(PolicyProfile), PolicyProfile),
        };

        foreach (var good in goods)
        {
            Assert.DoesNotContain(Run(good), f => f.Lint == lint);
        }
    }

    [Fact]
    public void NameConstraints_TheSubjectsEmailAddress_IsBoundByEmailConstraints()
    {
        // RFC 5280 §4.2.1.10: rfc822Name constraints apply to the subject's emailAddress attributes too.
        Fixture WithSubjectEmail(string address) => Ee(Good() with { Subject = new X509Name($"CN=www.example.com,E={address}") }) with { IssuedBy = ConstrainedIssuer };

        var outside = Run(WithSubjectEmail("pki@example.org")).Where(f => f.Lint == "e_name_constraints_violated").Select(f => f.Message);
        var inside = Run(WithSubjectEmail("pki@example.com")).Where(f => f.Lint == "e_name_constraints_violated");

        Assert.Equal(["the subject's emailAddress: email:pki@example.org is outside the issuer's permitted subtrees (email:example.com)"], outside);
        Assert.Empty(inside);
    }

    [Fact]
    public void Run_GoodCertificate_HasNoFindingsAtAll()
    {
        Assert.Empty(Run(Ee(Good())));
    }

    [Fact]
    public void Run_UnparseableCertificate_IsAnError()
    {
        var findings = CertificateLinter.Default.Run(new LintContext { Der = [0x30, 0x03, 0x02, 0x01, 0x01], IssuerCertificate = Issuer, Profile = TlsServer, Now = Now });

        Assert.Contains(findings, f => f.Severity == LintSeverity.Error);
    }

    [Theory]
    [InlineData("2026-03-14", 398)]
    [InlineData("2026-03-15", 200)]
    [InlineData("2027-03-14", 200)]
    [InlineData("2027-03-15", 100)]
    [InlineData("2029-03-15", 47)]
    public void TlsValidityLimit_DependsOnTheIssuanceDate(string date, int days)
    {
        var now = DateTimeOffset.Parse(date + "T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(days, MiniCa.Core.Linting.Lints.TlsValidityExceedsBrMaximum.MaximumDays(now));
    }
}
