using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.TestSupport;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>
/// Mutation fuzzing of the files an officer blocks a key with (portal, API and CLI: <see cref="PublicKeyFile"/>):
/// certificates, CSRs and public keys of RSA and EC keys, in DER and PEM, changed at random. Each must give a key, or
/// a refusal that says what is wrong (<see cref="CaErrorKind.Malformed"/>): nothing else may escape.
/// </summary>
public sealed class PublicKeyFileFuzzTests
{
    [Fact]
    public void Read_MutatedFiles_EveryInputGetsAKeyOrAMalformedRefusal()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);
        var files = new List<(byte[] Der, string Label)>();
        foreach (var request in new[] { new CertificateRequest("CN=leaked.example.com", ec, HashAlgorithmName.SHA384), new CertificateRequest("CN=leaked.example.com", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) })
        {
            files.Add((request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)).RawData, "CERTIFICATE"));
            files.Add((request.CreateSigningRequest(), "CERTIFICATE REQUEST"));
            files.Add((request.PublicKey.ExportSubjectPublicKeyInfo(), "PUBLIC KEY"));
        }

        var splices = files.Select(f => f.Der).ToArray();
        var random = Mutator.Random(2027);
        var failures = new FuzzFailures();
        var (read, refused) = (0, 0);
        for (var round = 0; round < Mutator.Rounds; round++)
        {
            var (der, label) = files[random.Next(files.Count)];
            var input = random.Next(3) switch
            {
                0 => Mutator.Mutate(der, splices, random),
                1 => Pem(Mutator.Mutate(der, splices, random), label),
                _ => Mutator.Mutate(Pem(der, label), splices, random),
            };
            failures.Check(input, () =>
            {
                try
                {
                    var (key, _) = PublicKeyFile.Read(input, "key.pem");
                    Assert.Equal(64, PublicKeyFingerprint.Sha256(key).Length);
                    read++;
                }
                catch (CaException ex) when (ex.Kind == CaErrorKind.Malformed)
                {
                    Assert.StartsWith("key.pem", ex.Message, StringComparison.Ordinal);
                    refused++;
                }
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        // Both answers were reached: a change where it does not matter still gives the key.
        Assert.True(read > Mutator.Rounds / 50 && refused > Mutator.Rounds / 4, $"{read} read, {refused} refused of {Mutator.Rounds}");
    }

    private static byte[] Pem(byte[] der, string label) => System.Text.Encoding.ASCII.GetBytes(PemEncoding.WriteString(label, der));
}
