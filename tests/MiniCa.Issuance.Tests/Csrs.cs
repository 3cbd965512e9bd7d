using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MiniCa.Issuance.Tests;

/// <summary>CSRs made the way a subscriber would, with the platform's crypto (keys stay in the test).</summary>
internal static class Csrs
{
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static byte[] Make(string subject, Action<SubjectAlternativeNameBuilder>? names = null, AsymmetricAlgorithm? key = null)
    {
        key ??= Key;
        var request = key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("unsupported key", nameof(key)),
        };
        if (names is not null)
        {
            var san = new SubjectAlternativeNameBuilder();
            names(san);
            request.CertificateExtensions.Add(san.Build());
        }

        return request.CreateSigningRequest();
    }

    public static byte[] Dns(params string[] names) => Make("CN=" + names[0], san =>
    {
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }
    });

    public static byte[] Pem(byte[] der) => System.Text.Encoding.ASCII.GetBytes(PemEncoding.WriteString("CERTIFICATE REQUEST", der));
}
