using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>PKCS#10 requests made with software keys, for parser and policy tests (no HSM involved).</summary>
internal static class Csrs
{
    public static readonly AsymmetricCipherKeyPair P256 = Ec("P-256");

    public static AsymmetricCipherKeyPair Ec(string curve)
    {
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(Org.BouncyCastle.Asn1.X9.ECNamedCurveTable.GetOid(curve), new SecureRandom()));
        return generator.GenerateKeyPair();
    }

    public static AsymmetricCipherKeyPair Rsa(int bits, long exponent = 65537)
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(exponent), new SecureRandom(), bits, 64));
        return generator.GenerateKeyPair();
    }

    public static byte[] Der(string subject, IEnumerable<GeneralName>? sans = null, AsymmetricCipherKeyPair? key = null)
    {
        key ??= P256;
        var algorithm = key.Private switch
        {
            RsaKeyParameters => "SHA256WITHRSA",
            Ed25519PrivateKeyParameters => "Ed25519",
            _ => "SHA256WITHECDSA",
        };
        DerSet? attributes = null;
        var names = sans?.ToArray() ?? [];
        if (names.Length > 0)
        {
            var extensions = new X509ExtensionsGenerator();
            extensions.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames(names));
            attributes = new DerSet(new AttributePkcs(PkcsObjectIdentifiers.Pkcs9AtExtensionRequest, new DerSet(extensions.Generate())));
        }

        return new Pkcs10CertificationRequest(new Asn1SignatureFactory(algorithm, key.Private), new X509Name(subject), key.Public, attributes).GetEncoded();
    }

    public static byte[] Dns(params string[] names) => Der("CN=" + names[0], names.Select(n => new GeneralName(GeneralName.DnsName, n)));

    public static byte[] Pem(byte[] der)
    {
        using var text = new StringWriter();
        using (var writer = new PemWriter(text))
        {
            writer.WriteObject(new Org.BouncyCastle.Utilities.IO.Pem.PemObject("CERTIFICATE REQUEST", der));
        }

        return System.Text.Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>The same request with one bit of the signed part flipped: the signature no longer matches.</summary>
    public static byte[] Tampered(byte[] der)
    {
        var request = CertificationRequest.GetInstance(Asn1Object.FromByteArray(der));
        var info = request.GetCertificationRequestInfo();
        var changed = new CertificationRequestInfo(new X509Name("CN=tampered.example.com"), info.SubjectPublicKeyInfo, info.Attributes);
        return new DerSequence(changed, request.SignatureAlgorithm, request.Signature).GetDerEncoded();
    }
}
