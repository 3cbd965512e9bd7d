using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Issuance;
using MiniCa.Core.Signing;
using MiniCa.Web.Portal;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace MiniCa.Web.Tests;

/// <summary>How a certificate's page shows a CA's name constraints and certificate policies (pure decoding, no host).</summary>
public sealed class CertificateDecoderTests
{
    [Fact]
    public void Decode_ConstrainedCaWithPolicies_ShowsSubtreesAsWrittenAndPoliciesWithTheirQualifiers()
    {
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(SecObjectIdentifiers.SecP256r1, new SecureRandom()));
        var key = generator.GenerateKeyPair();
        var now = DateTimeOffset.UtcNow;
        var tbs = AuthorityCertificateBuilder.BuildTbs(new AuthorityCertificateRequest
        {
            Serial = new BigInteger(1, Convert.FromHexString("7a1b2c3d4e5f60718293a4b5c6d7e8f9")),
            Subject = new X509Name("CN=Decoder Test CA"),
            SubjectPublicKey = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key.Public),
            NotBefore = now,
            NotAfter = now.AddDays(30),
            PathLength = 0,
            SignatureAlgorithm = SignatureAlgorithm.EcdsaSha256,
            PublicBaseUrl = new Uri("http://ca.example.com/"),
            NameConstraints = AuthorityNameConstraints.Build(new NameConstraintsOptions
            {
                Permitted = ["dns:corp.example.com", "ip:10.0.0.0/8", "ip:fd00::/8"],
                Excluded = ["dns:secret.corp.example.com"],
            }),
            CertificatePolicies = CertificatePolicyStatements.Build([
                new CertificatePolicyEntry { Oid = "1.3.6.1.4.1.55555.1.1", Cps = "https://pki.example.com/cps", Notice = "Für interne Dienste" },
                new CertificatePolicyEntry { Oid = "anyPolicy" },
            ]),
        });
        var signer = SignerUtilities.GetSigner("SHA-256withECDSA");
        var der = tbs.GetDerEncoded();
        signer.Init(true, key.Private);
        signer.BlockUpdate(der, 0, der.Length);
        var certificate = AuthorityCertificateBuilder.Assemble(tbs, signer.GenerateSignature(), key.Public);

        var decoded = CertificateDecoder.Decode(certificate.GetEncoded());

        var constraints = Assert.Single(decoded.Extensions, e => e.Name == "Name Constraints");
        Assert.True(constraints.Critical);
        Assert.Equal(["Permitted: DNS: corp.example.com", "Permitted: IP: 10.0.0.0/8", "Permitted: IP: fd00::/8", "Excluded: DNS: secret.corp.example.com"], constraints.Values);
        var policies = Assert.Single(decoded.Extensions, e => e.Name == "Certificate Policies");
        Assert.False(policies.Critical);
        Assert.Equal(["1.3.6.1.4.1.55555.1.1; CPS: https://pki.example.com/cps; notice: Für interne Dienste", "anyPolicy"], policies.Values);
    }
}

/// <summary>The Authority page's data: what each CA's certificate says it may certify and which policies it conveys.</summary>
[Collection(PortalCollection.Name)]
public sealed class AuthorityOverviewTests(PortalFixture fixture)
{
    [Fact]
    public async Task ListAsync_TheIssuingCasNameConstraints_AsItsCertificateSaysThem()
    {
        // The portal tests' issuing CA excludes a domain (PortalFixture); the root has no constraints.
        var views = await fixture.Services.GetRequiredService<AuthorityOverview>().ListAsync();

        Assert.Equal([$"Excluded: DNS: {PortalFixture.ExcludedDomain}"], views.Single(v => v.Name == "issuing").NameConstraints);
        Assert.Empty(views.Single(v => v.Name == "root").NameConstraints);
        Assert.All(views, v => Assert.Empty(v.CertificatePolicies));
    }
}
