using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>
/// Mutation fuzzing of CSR handling. Every enrolment path parses a CSR from outside, and the portal decodes one at
/// every keystroke (<see cref="RequestPreview.Evaluate"/>), so whatever the bytes, the answer must be a request or
/// a list of precise reasons: never an exception, which would be a 500 or a broken page. Inputs are valid CSRs of
/// every key type and name type, changed at random (bits, bytes, lengths, cuts, insertions, splices from another
/// CSR). Mutated bytes mostly break the signature, which is checked beside the rest but stops nothing else; the
/// second test re-signs the mutated request, so that names, extensions and keys reach the profile's policy as a
/// valid proof of possession. The mutations follow a fixed random sequence (<see cref="Mutator"/>), but the seed
/// CSRs' keys are new at each run, so a failure is reported with its input in hex, to be replayed. The first run
/// found four inputs that escaped as exceptions (the API answered 500); BadInputTests keeps them at the API's door.
/// </summary>
public sealed class CsrFuzzTests
{
    private static int Rounds => Mutator.Rounds;

    private static readonly Lazy<ProfileCatalog> Profiles = new(() => ProfileLoader.LoadDirectory(Path.Combine(RepositoryPaths.Root, "policies")));
    private static readonly Lazy<Seed[]> Seeds = new(MakeSeeds);
    private static readonly Lazy<byte[][]> Splices = new(() => [.. Seeds.Value.Select(s => s.Info)]);

    [Fact]
    public void Parse_MutatedCsrBytes_EveryInputGetsAnAnswer_NeverAnException()
    {
        var random = Mutator.Random(2025);
        var failures = new FuzzFailures();
        var rejected = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var seed = Seeds.Value[random.Next(Seeds.Value.Length)];
            var mutated = Mutator.Mutate(seed.Der, Splices.Value, random);
            var input = random.Next(4) == 0 ? Csrs.Pem(mutated) : mutated;
            if (random.Next(8) == 0)
            {
                // The PEM text itself changed: armour, base64 and line breaks.
                input = Mutator.Mutate(Csrs.Pem(seed.Der), Splices.Value, random);
            }

            failures.Check(input, () =>
            {
                var result = CsrParser.Parse(input);
                AssertAnswer(result.Csr is not null, result.Problems);
                rejected += result.IsValid ? 0 : 1;
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        Assert.True(rejected > Rounds / 2, $"only {rejected} of {Rounds} mutated CSRs were refused: the mutations did not reach the parser's checks");
    }

    [Fact]
    public void Preview_MutatedRequestsSignedAgain_EveryInputGetsAnAnswer_NeverAnException()
    {
        var random = Mutator.Random(2026);
        var failures = new FuzzFailures();
        var profiles = Profiles.Value.All.Select(p => p.Name).ToArray();
        var reachedPolicy = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var seed = Seeds.Value[random.Next(Seeds.Value.Length)];
            var input = SignAgain(Mutator.Mutate(seed.Info, Splices.Value, random, most: 2), seed);
            var profile = profiles[random.Next(profiles.Length)];
            failures.Check(input, () =>
            {
                var preview = RequestPreview.Evaluate(Profiles.Value, BlockedKeyLists.None, profile, input);
                AssertAnswer(preview.IsAcceptable, preview.Problems);
                var parsed = CsrParser.Parse(input);
                reachedPolicy += parsed.IsValid ? 1 : 0;
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        // Re-signing let mutated requests through the parser to the profiles' policy: 343-367 of 6,000 in three runs.
        Assert.True(reachedPolicy > Rounds / 30, $"only {reachedPolicy} of {Rounds} mutated requests reached the policy");
    }

    /// <summary>An answer is acceptance, or reasons that read as reasons: no exception text, no stack trace.</summary>
    private static void AssertAnswer(bool accepted, IReadOnlyList<string> problems)
    {
        Assert.True(accepted || problems.Count > 0, "a refusal without a reason");
        Assert.All(problems, problem =>
        {
            Assert.False(string.IsNullOrWhiteSpace(problem), "an empty reason");
            Assert.DoesNotContain("Exception", problem, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", problem, StringComparison.Ordinal);
        });
    }

    /// <summary>The CSR around <paramref name="info"/> (any bytes), signed with the seed's key.</summary>
    private static byte[] SignAgain(byte[] info, Seed seed)
    {
        var signer = SignerUtilities.GetSigner(seed.SignatureAlgorithm);
        signer.Init(true, seed.Key.Private);
        signer.BlockUpdate(info, 0, info.Length);
        var signature = signer.GenerateSignature();
        // RSA's algorithm identifier carries NULL parameters; ECDSA's and Ed25519's carry none (RFC 4055, 5758, 8410).
        var oid = SignerUtilities.GetObjectIdentifier(seed.SignatureAlgorithm);
        var algorithm = (oid.Equals(PkcsObjectIdentifiers.Sha256WithRsaEncryption) ? new AlgorithmIdentifier(oid, DerNull.Instance) : new AlgorithmIdentifier(oid)).GetDerEncoded();
        var bitString = new DerBitString(signature).GetDerEncoded();
        return Tlv(0x30, [.. info, .. algorithm, .. bitString]);
    }

    private static byte[] Tlv(byte tag, byte[] content)
    {
        var length = content.Length < 0x80 ? [(byte)content.Length]
            : content.Length <= 0xFF ? [0x81, (byte)content.Length]
            : new byte[] { 0x82, (byte)(content.Length >> 8), (byte)content.Length };
        return [tag, .. length, .. content];
    }

    /// <summary>A valid CSR to mutate: its DER, its signed part, and the key and algorithm that sign it again.</summary>
    private sealed record Seed(byte[] Der, byte[] Info, AsymmetricCipherKeyPair Key, string SignatureAlgorithm);

    private static Seed[] MakeSeeds()
    {
        var rsa = Csrs.Rsa(2048);
        var p384 = Csrs.Ec("P-384");
        var ed25519 = new Ed25519KeyPairGenerator();
        ed25519.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var edKey = ed25519.GenerateKeyPair();
        var seeds = new List<Seed>
        {
            SeedOf(Csrs.Dns("www.example.com", "example.com", "*.api.example.com"), Csrs.P256, "SHA256WITHECDSA"),
            SeedOf(Csrs.Der("CN=host.example.internal,O=Example,OU=Ops,C=DE", [
                new GeneralName(GeneralName.DnsName, "host.example.internal"),
                new GeneralName(GeneralName.IPAddress, "192.0.2.10"),
                new GeneralName(GeneralName.IPAddress, "2001:db8::1"),
            ], rsa), rsa, "SHA256WITHRSA"),
            SeedOf(Csrs.Der("CN=Alice Example,E=alice@example.com", [
                new GeneralName(GeneralName.Rfc822Name, "alice@example.com"),
                new GeneralName(GeneralName.UniformResourceIdentifier, "https://example.com/alice"),
            ], p384), p384, "SHA384WITHECDSA"),
            SeedOf(Csrs.Der("CN=xn--bcher-kva.example", [new GeneralName(GeneralName.DnsName, "xn--bcher-kva.example")], edKey), edKey, "Ed25519"),
            SeedOf(Csrs.Der("CN=Code Signing Example,O=Example"), Csrs.P256, "SHA256WITHECDSA"),
        };
        return [.. seeds];
    }

    private static Seed SeedOf(byte[] der, AsymmetricCipherKeyPair key, string algorithm) =>
        new(der, CertificationRequest.GetInstance(Asn1Object.FromByteArray(der)).GetCertificationRequestInfo().GetDerEncoded(), key, algorithm);
}
