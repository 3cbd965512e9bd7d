using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Serials;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;

namespace MiniCa.Unit.Tests;

public sealed class PkiPrimitivesTests
{
    [Fact]
    public void NewSerial_ManyDraws_PositiveAtMost20OctetsAtLeast64BitsAndDistinct()
    {
        var generator = new RandomSerialNumberGenerator();
        var seen = new HashSet<BigInteger>();

        for (var i = 0; i < 5000; i++)
        {
            var serial = generator.NewSerial();
            Assert.Equal(1, serial.SignValue);
            Assert.InRange(serial.BitLength, 64, 127);
            Assert.True(new DerInteger(serial).GetDerEncoded().Length - 2 <= 20);
            Assert.True(seen.Add(serial));
        }
    }

    [Theory]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002", "3006020101020102")]
    [InlineData("80000000000000000000000000000000000000000000000000000000000000007fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "3045022100800000000000000000000000000000000000000000000000000000000000000002207fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    public void RawToDer_RAndS_AreMinimalPositiveIntegers(string rawHex, string expectedDerHex)
    {
        Assert.Equal(expectedDerHex, Convert.ToHexStringLower(EcdsaSignatureEncoding.RawToDer(Convert.FromHexString(rawHex))));
    }

    [Fact]
    public void RawToDer_OddLength_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => EcdsaSignatureEncoding.RawToDer(new byte[63]));
    }

    [Theory]
    [InlineData("p256", "P-256")]
    [InlineData("P-384", "P-384")]
    [InlineData("rsa3072", "RSA-3072")]
    [InlineData("RSA-4096", "RSA-4096")]
    public void KeyAlgorithmParse_KnownSpellings_Resolve(string input, string expected)
    {
        Assert.Equal(expected, KeyAlgorithm.Parse(input).Name);
    }

    [Fact]
    public void KeyAlgorithmParse_Unknown_ListsTheSupportedOnes()
    {
        var error = Assert.Throws<CaException>(() => KeyAlgorithm.Parse("RSA-1024"));

        Assert.Equal(CaErrorKind.Malformed, error.Kind);
        Assert.Contains("P-256, P-384, RSA-2048, RSA-3072, RSA-4096", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identifier_EcdsaHasNoParametersAndRsaHasNull()
    {
        Assert.Null(SignatureAlgorithms.Identifier(SignatureAlgorithm.EcdsaSha256).Parameters);
        Assert.Equal(DerNull.Instance, SignatureAlgorithms.Identifier(SignatureAlgorithm.RsaPkcs1Sha256).Parameters);
        var pss = RsassaPssParameters.GetInstance(SignatureAlgorithms.Identifier(SignatureAlgorithm.RsaPssSha256).Parameters);
        Assert.Equal(32, pss.SaltLength.IntValueExact);
        Assert.Equal("2.16.840.1.101.3.4.2.1", pss.HashAlgorithm.Algorithm.Id);
    }

    [Fact]
    public void DefaultFor_MatchesHashToCurveStrength()
    {
        Assert.Equal(SignatureAlgorithm.EcdsaSha256, SignatureAlgorithms.DefaultFor(KeyAlgorithm.EcP256));
        Assert.Equal(SignatureAlgorithm.EcdsaSha384, SignatureAlgorithms.DefaultFor(KeyAlgorithm.EcP384));
        Assert.Equal(SignatureAlgorithm.RsaPkcs1Sha256, SignatureAlgorithms.DefaultFor(KeyAlgorithm.Rsa3072));
    }

    [Fact]
    public void CreationOrder_IssuersComeBeforeWhatTheySign()
    {
        var authorities = new Dictionary<string, AuthorityOptions>
        {
            ["leafca"] = new() { Subject = "CN=L", Issuer = "mid" },
            ["mid"] = new() { Subject = "CN=M", Issuer = "root" },
            ["root"] = new() { Subject = "CN=R" },
        };

        Assert.Equal(["root", "mid", "leafca"], CaOptionsValidator.CreationOrder(authorities));
    }

    [Fact]
    public void BuildTbs_SerialOver20Octets_IsRefused()
    {
        var request = new AuthorityCertificateRequest
        {
            Serial = BigInteger.One.ShiftLeft(170),
            Subject = new X509Name("CN=x"),
            SubjectPublicKey = new SubjectPublicKeyInfo(new AlgorithmIdentifier(PkcsObjectIdentifiers.RsaEncryption, DerNull.Instance), new byte[] { 1 }),
            NotBefore = DateTimeOffset.UnixEpoch,
            NotAfter = DateTimeOffset.UnixEpoch.AddDays(1),
            SignatureAlgorithm = SignatureAlgorithm.RsaPkcs1Sha256,
            PublicBaseUrl = new Uri("http://localhost/"),
        };

        Assert.Throws<CaException>(() => AuthorityCertificateBuilder.BuildTbs(request));
        Assert.Throws<CaException>(() => AuthorityCertificateBuilder.BuildTbs(request with { Serial = BigInteger.Zero }));
        Assert.Throws<CaException>(() => AuthorityCertificateBuilder.BuildTbs(request with { Serial = BigInteger.One, NotAfter = DateTimeOffset.UnixEpoch }));
    }
}
