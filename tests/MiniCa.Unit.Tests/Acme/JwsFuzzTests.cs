using System.Security.Cryptography;
using System.Text;
using MiniCa.Acme;
using MiniCa.Acme.Jws;
using MiniCa.TestSupport;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace MiniCa.Unit.Tests.Acme;

/// <summary>
/// Mutation fuzzing of what an ACME client sends first: the JWS (RFC 8555 §6.2) and the account key in its header
/// (RFC 7517), read as the server reads them (<see cref="JwsMessage.Parse(ReadOnlySpan{byte})"/>, then
/// <see cref="AccountKey.Parse"/>, the signature's verification, the key's thumbprint and SubjectPublicKeyInfo, and
/// the payload as a newAccount's). Valid JWSs of every accepted key type are changed at four depths: the body's
/// bytes, the protected header's JSON, the payload's JSON, and the key's own numbers (a point off its curve, a modulus or exponent cut short). Each must be read, or refused
/// with an ACME problem: nothing else may escape, as it would be a 500 instead of a problem document.
/// </summary>
public sealed class JwsFuzzTests
{
    [Fact]
    public void Read_MutatedJwsAndAccountKeys_EveryInputGetsAnAnswerOrAnAcmeProblem()
    {
        var seeds = Seeds();
        var splices = seeds.Select(s => Encoding.UTF8.GetBytes(s.Header)).ToArray();
        var random = Mutator.Random(2028);
        var failures = new FuzzFailures();
        var problems = 0;
        for (var round = 0; round < Mutator.Rounds; round++)
        {
            var seed = seeds[random.Next(seeds.Length)];
            var body = random.Next(4) switch
            {
                0 => Mutator.Mutate(Encoding.UTF8.GetBytes(seed.Body(seed.Header)), splices, random),
                1 => Encoding.UTF8.GetBytes(seed.Body(Encoding.UTF8.GetString(Mutator.Mutate(Encoding.UTF8.GetBytes(seed.Header), splices, random)))),
                2 => Encoding.UTF8.GetBytes(seed.Body(seed.Header, Mutator.Mutate(Seed.Payload, splices, random))),
                _ => Encoding.UTF8.GetBytes(seed.Body(MutateKeyNumber(seed.Header, splices, random))),
            };
            failures.Check(body, () =>
            {
                try
                {
                    var jws = JwsMessage.Parse(body);
                    if (jws.Jwk is { } jwk)
                    {
                        var key = AccountKey.Parse(jwk);
                        _ = key.Verify(jws.Algorithm, jws.SigningInput, jws.Signature);
                        Assert.NotEmpty(key.Thumbprint);
                        Assert.NotEmpty(key.SubjectPublicKeyInfo());
                    }

                    _ = jws.PayloadAs<MiniCa.Acme.Wire.NewAccountPayload>();
                }
                catch (AcmeException ex)
                {
                    Assert.False(string.IsNullOrWhiteSpace(ex.Message), "a problem without a detail");
                    problems++;
                }
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        Assert.True(problems > Mutator.Rounds / 4, $"only {problems} problems in {Mutator.Rounds} rounds: the mutations did not reach the checks");
    }

    /// <summary>The header with one of its key's base64url numbers (n, e, x or y) decoded, changed and encoded again.</summary>
    private static string MutateKeyNumber(string header, byte[][] splices, Random random)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(header)!.AsObject();
        if (node["jwk"] is not System.Text.Json.Nodes.JsonObject jwk)
        {
            return Encoding.UTF8.GetString(Mutator.Mutate(Encoding.UTF8.GetBytes(header), splices, random));
        }

        var members = jwk.Where(m => m.Key is "n" or "e" or "x" or "y").Select(m => m.Key).ToArray();
        var member = members[random.Next(members.Length)];
        jwk[member] = Base64Url.Encode(Mutator.Mutate(Base64Url.Decode(jwk[member]!.GetValue<string>(), member), splices, random));
        return node.ToJsonString();
    }

    /// <summary>A JWS's header and a way to sign any header text with its key (the payload stays the same).</summary>
    private sealed record Seed(string Header, Func<byte[], byte[]> Sign)
    {
        public static readonly byte[] Payload = """{"termsOfServiceAgreed":true,"contact":["mailto:ops@example.com"]}"""u8.ToArray();

        public string Body(string header, byte[]? payload = null)
        {
            var protectedPart = Base64Url.Encode(Encoding.UTF8.GetBytes(header));
            var payloadPart = Base64Url.Encode(payload ?? Payload);
            var signature = Sign(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart));
            return $$"""{"protected":"{{protectedPart}}","payload":"{{payloadPart}}","signature":"{{Base64Url.Encode(signature)}}"}""";
        }
    }

    private static Seed[] Seeds()
    {
        const string Rest = "\"nonce\":\"bm9uY2U\",\"url\":\"https://ca.example/acme/new-account\"";
        var seeds = new List<Seed>();
        foreach (var (curve, crv, alg, hash) in new[] { (ECCurve.NamedCurves.nistP256, "P-256", "ES256", HashAlgorithmName.SHA256), (ECCurve.NamedCurves.nistP384, "P-384", "ES384", HashAlgorithmName.SHA384) })
        {
            var ec = ECDsa.Create(curve);
            var q = ec.ExportParameters(false).Q;
            seeds.Add(new Seed(
                $$"""{"alg":"{{alg}}","jwk":{"crv":"{{crv}}","kty":"EC","x":"{{Base64Url.Encode(q.X!)}}","y":"{{Base64Url.Encode(q.Y!)}}"},{{Rest}}}""",
                input => ec.SignData(input, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
        }

        var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        seeds.Add(new Seed(
            $$"""{"alg":"RS256","jwk":{"e":"{{Base64Url.Encode(p.Exponent!)}}","kty":"RSA","n":"{{Base64Url.Encode(p.Modulus!)}}"},{{Rest}}}""",
            input => rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)));

        var ed = new Ed25519PrivateKeyParameters(new SecureRandom());
        seeds.Add(new Seed(
            $$"""{"alg":"EdDSA","jwk":{"crv":"Ed25519","kty":"OKP","x":"{{Base64Url.Encode(ed.GeneratePublicKey().GetEncoded())}}"},{{Rest}}}""",
            input =>
            {
                var signer = new Ed25519Signer();
                signer.Init(true, ed);
                signer.BlockUpdate(input, 0, input.Length);
                return signer.GenerateSignature();
            }));

        // An account's later requests: a kid instead of the key.
        var account = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        seeds.Add(new Seed(
            $$"""{"alg":"ES256","kid":"https://ca.example/acme/account/17",{{Rest}}}""",
            input => account.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));
        return [.. seeds];
    }
}
