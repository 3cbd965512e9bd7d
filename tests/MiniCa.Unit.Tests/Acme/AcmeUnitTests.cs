using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MiniCa.Acme;
using MiniCa.Acme.Jws;
using MiniCa.Acme.Validation;
using MiniCa.Core.Acme;

namespace MiniCa.Unit.Tests.Acme;

/// <summary>The ACME pieces that need no server: JWK thumbprints, JWS rules, state machines, address policy.</summary>
public sealed class AcmeUnitTests
{
    [Fact]
    public void Thumbprint_Rfc7638Example_Matches()
    {
        // RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
        const string jwk = """
            {"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}
            """;
        using var document = JsonDocument.Parse(jwk);
        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", AccountKey.Parse(document.RootElement).Thumbprint);
    }

    [Theory]
    [InlineData("""{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}""", "badPublicKey")]
    [InlineData("""{"kty":"oct","k":"AAAA"}""", "badPublicKey")]
    [InlineData("""{"kty":"RSA","n":"AQAB","e":"AQAB"}""", "badPublicKey")]
    [InlineData("""{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","d":"AAAA"}""", "badPublicKey")]
    [InlineData("""{"crv":"P-256"}""", "malformed")]
    [InlineData("""[1,2]""", "malformed")]
    public void AccountKey_WeakOrPrivateOrBroken_Refused(string jwk, string type)
    {
        using var document = JsonDocument.Parse(jwk);
        var error = Assert.Throws<AcmeException>(() => AccountKey.Parse(document.RootElement));
        Assert.Equal(type, error.Type);
    }

    [Fact]
    public void Jws_Es256_VerifiesAndATamperedPayloadDoesNot()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = Sign(key, """{"nonce":"n","url":"https://ca/x"}""", """{"a":1}""");
        var jws = JwsMessage.Parse(Encoding.UTF8.GetBytes(body));
        var accountKey = KeyOf(key);
        jws.VerifyWith(accountKey);
        var tampered = JwsMessage.Parse(Encoding.UTF8.GetBytes(body.Replace(Base64Url.Encode("""{"a":1}"""u8), Base64Url.Encode("""{"a":2}"""u8), StringComparison.Ordinal)));
        Assert.Equal("malformed", Assert.Throws<AcmeException>(() => tampered.VerifyWith(accountKey)).Type);
    }

    [Theory]
    [InlineData("""{"alg":"ES256","nonce":"n","url":"u","kid":"k","jwk":{}}""", true, "malformed")]
    [InlineData("""{"alg":"ES256","nonce":"n","url":"u"}""", true, "malformed")]
    [InlineData("""{"alg":"ES256","url":"u","jwk":{}}""", true, "badNonce")]
    [InlineData("""{"alg":"ES256","nonce":"n","jwk":{}}""", true, "malformed")]
    [InlineData("""{"alg":"none","nonce":"n","url":"u","jwk":{}}""", true, "badSignatureAlgorithm")]
    [InlineData("""{"alg":"HS256","nonce":"n","url":"u","kid":"k"}""", false, "badSignatureAlgorithm")]
    [InlineData("""{"alg":"ES256","nonce":"n","url":"u","kid":"k"}""", true, "malformed")]
    [InlineData("""{"alg":"ES256","nonce":"n","url":"u","jwk":{}}""", false, "malformed")]
    public void Jws_HeaderBreaksRfc8555_TheRightProblem(string header, bool wantsJwk, string type)
    {
        var body = $$"""{"protected":"{{Base64Url.Encode(Encoding.UTF8.GetBytes(header))}}","payload":"","signature":"AAAA"}""";
        var jws = JwsMessage.Parse(Encoding.UTF8.GetBytes(body));
        Assert.Equal(type, Assert.Throws<AcmeException>(() => jws.CheckOuter(wantsJwk)).Type);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"protected":"e30","payload":"","signature":"","header":{"kid":"x"}}""")]
    [InlineData("""{"protected":"e30=","payload":"","signature":""}""")]
    [InlineData("""{"protected":"!!","payload":"","signature":""}""")]
    [InlineData("""{"protected":"WzFd","payload":"","signature":""}""")]
    [InlineData("""{"payload":"","signature":""}""")]
    public void Jws_NotFlattenedJsonSerialisation_Malformed(string body)
    {
        Assert.Equal("malformed", Assert.Throws<AcmeException>(() => JwsMessage.Parse(Encoding.UTF8.GetBytes(body))).Type);
    }

    [Fact]
    public void Transitions_FollowRfc8555()
    {
        Assert.True(AcmeTransitions.CanMove(AcmeChallengeStatus.Pending, AcmeChallengeStatus.Processing));
        Assert.True(AcmeTransitions.CanMove(AcmeChallengeStatus.Processing, AcmeChallengeStatus.Valid));
        Assert.False(AcmeTransitions.CanMove(AcmeChallengeStatus.Pending, AcmeChallengeStatus.Valid));
        Assert.False(AcmeTransitions.CanMove(AcmeChallengeStatus.Invalid, AcmeChallengeStatus.Processing));
        Assert.Equal(AcmeAuthorizationStatus.Valid, AcmeTransitions.AfterChallenge(AcmeAuthorizationStatus.Pending, true));
        Assert.Equal(AcmeAuthorizationStatus.Invalid, AcmeTransitions.AfterChallenge(AcmeAuthorizationStatus.Pending, false));
        Assert.Equal(AcmeAuthorizationStatus.Deactivated, AcmeTransitions.AfterChallenge(AcmeAuthorizationStatus.Deactivated, true));
        Assert.Equal(AcmeOrderStatus.Pending, AcmeTransitions.FromAuthorizations(AcmeOrderStatus.Pending, [AcmeAuthorizationStatus.Valid, AcmeAuthorizationStatus.Pending]));
        Assert.Equal(AcmeOrderStatus.Ready, AcmeTransitions.FromAuthorizations(AcmeOrderStatus.Pending, [AcmeAuthorizationStatus.Valid, AcmeAuthorizationStatus.Valid]));
        Assert.Equal(AcmeOrderStatus.Invalid, AcmeTransitions.FromAuthorizations(AcmeOrderStatus.Pending, [AcmeAuthorizationStatus.Valid, AcmeAuthorizationStatus.Invalid]));
        Assert.Equal(AcmeOrderStatus.Invalid, AcmeTransitions.FromAuthorizations(AcmeOrderStatus.Ready, [AcmeAuthorizationStatus.Deactivated]));
        Assert.Equal(AcmeOrderStatus.Valid, AcmeTransitions.FromAuthorizations(AcmeOrderStatus.Valid, [AcmeAuthorizationStatus.Invalid]));
        Assert.True(AcmeTransitions.CanFinalize(AcmeOrderStatus.Ready));
        Assert.False(AcmeTransitions.CanFinalize(AcmeOrderStatus.Pending));
        Assert.False(AcmeTransitions.CanFinalize(AcmeOrderStatus.Processing));
    }

    [Theory]
    [InlineData("169.254.169.254", false)]
    [InlineData("169.254.1.1", false)]
    [InlineData("100.100.100.200", false)]
    [InlineData("fd00:ec2::254", false)]
    [InlineData("fe80::1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("::ffff:169.254.169.254", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("192.168.1.10", true)]
    [InlineData("2001:db8::1", true)]
    public void AddressPolicy_LinkLocalAndMetadataRefused(string address, bool allowed)
    {
        Assert.Equal(allowed, AddressPolicy.Refuse(IPAddress.Parse(address)) is null);
    }

    private static AccountKey KeyOf(ECDsa key)
    {
        var p = key.ExportParameters(false);
        using var document = JsonDocument.Parse($$"""{"kty":"EC","crv":"P-256","x":"{{Base64Url.Encode(p.Q.X!)}}","y":"{{Base64Url.Encode(p.Q.Y!)}}"}""");
        return AccountKey.Parse(document.RootElement);
    }

    private static string Sign(ECDsa key, string headerWithoutAlg, string payload)
    {
        var header = headerWithoutAlg.Insert(1, "\"alg\":\"ES256\",");
        var protectedPart = Base64Url.Encode(Encoding.UTF8.GetBytes(header));
        var payloadPart = Base64Url.Encode(Encoding.UTF8.GetBytes(payload));
        var signature = key.SignData(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $$"""{"protected":"{{protectedPart}}","payload":"{{payloadPart}}","signature":"{{Base64Url.Encode(signature)}}"}""";
    }
}
