using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>The files an operator blocks a key with: certificate, CSR or public key, PEM or DER, the same key from each.</summary>
public sealed class PublicKeyFileTests
{
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static TheoryData<string> Kinds => new() { "certificate", "CSR", "public key" };

    private static byte[] Der(string kind)
    {
        var request = new CertificateRequest("CN=leaked.example.com", Key, HashAlgorithmName.SHA256);
        return kind switch
        {
            "certificate" => request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)).RawData,
            "CSR" => request.CreateSigningRequest(),
            _ => Key.ExportSubjectPublicKeyInfo(),
        };
    }

    private static string Label(string kind) => kind switch { "certificate" => "CERTIFICATE", "CSR" => "CERTIFICATE REQUEST", _ => "PUBLIC KEY" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Read_DerAndPemOfEachKind_GiveTheKeysFingerprint(string kind)
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(Key.ExportSubjectPublicKeyInfo()));

        var (fromDer, derKind) = PublicKeyFile.Read(Der(kind), "key.der");
        var (fromPem, pemKind) = PublicKeyFile.Read(System.Text.Encoding.ASCII.GetBytes(PemEncoding.WriteString(Label(kind), Der(kind))), "key.pem");

        Assert.Equal(kind, derKind);
        Assert.Equal(kind, pemKind);
        Assert.Equal(expected, PublicKeyFingerprint.Sha256(fromDer));
        Assert.Equal(expected, PublicKeyFingerprint.Sha256(fromPem));
    }

    [Theory]
    [InlineData("-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n", "holds a private key; give its public key instead (openssl pkey -in f.pem -pubout)")]
    [InlineData("-----BEGIN X509 CRL-----\nMA==\n-----END X509 CRL-----\n", "the PEM block is 'X509 CRL'")]
    [InlineData("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "is not valid base64")]
    [InlineData("just text", "is neither DER nor a PEM block")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nMAMCAQE=\n-----END PUBLIC KEY-----\n", "is not a public key")]
    public void Read_WrongInput_IsAMalformedErrorNamingTheFile(string content, string message)
    {
        var error = Assert.Throws<CaException>(() => PublicKeyFile.Read(System.Text.Encoding.ASCII.GetBytes(content), "f.pem"));

        Assert.Equal(CaErrorKind.Malformed, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("f.pem", error.Message, StringComparison.Ordinal);
    }
}
