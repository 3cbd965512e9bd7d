using MiniCa.Core.Keys;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.X509;

namespace MiniCa.Hsm.Tests;

/// <summary>BouncyCastle's generators signing through the HSM with <see cref="SignerSignatureFactory"/>.</summary>
[Collection(HsmCollection.Name)]
public sealed class SignatureFactoryTests(HsmFixture hsm)
{
    public static TheoryData<string, SignatureAlgorithm> Cases => new()
    {
        { "P-256", SignatureAlgorithm.EcdsaSha256 },
        { "P-384", SignatureAlgorithm.EcdsaSha384 },
        { "RSA-2048", SignatureAlgorithm.RsaPkcs1Sha256 },
        { "RSA-2048", SignatureAlgorithm.RsaPssSha256 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generators_CertificateCrlAndCsr_SignedInTheTokenVerify(string key, SignatureAlgorithm algorithm)
    {
        var signer = hsm.Keys.GenerateKey(HsmFixture.UniqueKeyName("bc"), KeyAlgorithm.Parse(key));
        var factory = new SignerSignatureFactory(signer, algorithm);
        var name = new X509Name("CN=Signature Factory Test");

        var certificateGenerator = new X509V3CertificateGenerator();
        certificateGenerator.SetSerialNumber(BigInteger.ValueOf(1234567));
        certificateGenerator.SetIssuerDN(name);
        certificateGenerator.SetSubjectDN(name);
        certificateGenerator.SetNotBefore(DateTime.UtcNow.AddMinutes(-1));
        certificateGenerator.SetNotAfter(DateTime.UtcNow.AddDays(1));
        certificateGenerator.SetPublicKey(signer.PublicKey);
        var certificate = certificateGenerator.Generate(factory);
        certificate.Verify(signer.PublicKey);

        var crlGenerator = new X509V2CrlGenerator();
        crlGenerator.SetIssuerDN(name);
        crlGenerator.SetThisUpdate(DateTime.UtcNow);
        crlGenerator.SetNextUpdate(DateTime.UtcNow.AddDays(1));
        crlGenerator.AddCrlEntry(BigInteger.ValueOf(42), DateTime.UtcNow, CrlReason.KeyCompromise);
        crlGenerator.Generate(factory).Verify(signer.PublicKey);

        var csr = new Pkcs10CertificationRequest(factory, name, signer.PublicKey, null);
        Assert.True(csr.Verify());
    }
}
