using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Ocsp;
using MiniCa.TestSupport;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Ocsp;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// Mutation fuzzing of the OCSP responder (RFC 6960), which answers anyone on the network: valid requests (SHA-1 and
/// SHA-256 CertIDs, one or several, with and without a nonce, for an issued, an unknown and another issuer's serial)
/// changed at random, answered by the CA's own responder with its real database and HSM. Every answer must be an
/// OCSPResponse that parses: successful (its signature verified here, up to the issuing CA), malformedRequest or
/// unauthorized. Nothing may escape as an exception, which the OCSP endpoint would turn into a 500.
/// </summary>
[Collection(IssuanceCollection.Name)]
public sealed class OcspFuzzTests(IssuanceFixture ca)
{
    [Fact]
    public async Task Respond_MutatedRequests_EveryAnswerIsAnOcspResponse()
    {
        var issued = await ca.Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csrs.Dns("ocsp-fuzz.example.com"), Profile = "tls-server", Requester = "alice", Source = "test" });
        var serial = new BigInteger(issued.SerialHex, 16);
        var seeds = new[]
        {
            Request([Id(OiwObjectIdentifiers.IdSha1, serial)]),
            Request([Id(NistObjectIdentifiers.IdSha256, serial)]),
            Request([Id(OiwObjectIdentifiers.IdSha1, serial), Id(OiwObjectIdentifiers.IdSha1, BigInteger.ValueOf(7)), Id(NistObjectIdentifiers.IdSha256, serial)], nonce: [1, 2, 3, 4, 5, 6, 7, 8]),
            Request([Id(OiwObjectIdentifiers.IdSha1, serial)], nonce: new byte[32]),
            Request([new CertificateID(new AlgorithmIdentifier(OiwObjectIdentifiers.IdSha1, DerNull.Instance), ca.Root, serial)]),
        };
        using var responder = ActivatorUtilities.CreateInstance<OcspResponder>(ca.Services);
        var random = Mutator.Random(2029);
        var failures = new FuzzFailures();
        var statuses = new int[7];
        var rounds = Mutator.RoundsOr(3000);
        for (var round = 0; round < rounds; round++)
        {
            var input = Mutator.Mutate(seeds[random.Next(seeds.Length)], seeds, random);
            await failures.CheckAsync(input, async () =>
            {
                var response = new OcspResp((await responder.RespondAsync(input)).Der);
                Assert.Contains(response.Status, new[] { OcspRespStatus.Successful, OcspRespStatus.MalformedRequest, OcspRespStatus.Unauthorized });
                statuses[response.Status]++;
                if (response.Status == OcspRespStatus.Successful)
                {
                    // Signed by the issuing CA, or by a responder certificate it issued (carried in the response).
                    var basic = (BasicOcspResp)response.GetResponseObject();
                    var signer = basic.GetCerts().FirstOrDefault() ?? ca.Issuing;
                    signer.Verify(ca.Issuing.GetPublicKey());
                    Assert.True(basic.Verify(signer.GetPublicKey()), "a successful answer whose signature does not verify");
                    Assert.InRange(basic.Responses.Length, 1, OcspResponder.MaxRequests);
                }
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        // Each kind of answer was reached: mutations that keep a request readable, and ones that break it (one run:
        // 154 successful, 2,524 malformedRequest, 322 unauthorized).
        Assert.True(statuses[OcspRespStatus.Successful] > 20 && statuses[OcspRespStatus.MalformedRequest] > rounds / 4,
            $"successful {statuses[OcspRespStatus.Successful]}, malformedRequest {statuses[OcspRespStatus.MalformedRequest]}, unauthorized {statuses[OcspRespStatus.Unauthorized]} of {rounds}");
    }

    private CertificateID Id(DerObjectIdentifier hash, BigInteger serial) =>
        new(new AlgorithmIdentifier(hash, DerNull.Instance), ca.Issuing, serial);

    private static byte[] Request(CertificateID[] ids, byte[]? nonce = null)
    {
        var generator = new OcspReqGenerator();
        foreach (var id in ids)
        {
            generator.AddRequest(id);
        }

        if (nonce is not null)
        {
            generator.SetRequestExtensions(new X509Extensions(new Dictionary<DerObjectIdentifier, X509Extension>
            {
                [OcspObjectIdentifiers.PkixOcspNonce] = new(false, new DerOctetString(new DerOctetString(nonce))),
            }));
        }

        return generator.Generate().GetEncoded();
    }
}
