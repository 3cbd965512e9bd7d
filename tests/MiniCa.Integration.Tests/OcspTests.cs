using System.Net;
using System.Net.Http.Headers;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>The OCSP responder of a running web host, queried with OpenSSL and raw HTTP.</summary>
public sealed class OcspTests(OcspFixture ca) : IClassFixture<OcspFixture>
{
    private static readonly byte[] MalformedRequest = [0x30, 0x03, 0x0a, 0x01, 0x01];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Post_IssuedCertificate_IsGoodAndVerifies(bool nonce)
    {
        var result = await ca.QueryAsync("good.pem", nonce ? [] : ["-no_nonce"]);

        Assert.True(result.ExitCode == 0, result.Combined);
        Assert.Contains("Response verify OK", result.Combined, StringComparison.Ordinal);
        Assert.Contains("good.pem: good", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Responder Id: ", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(nonce, result.StandardOutput.Contains("OCSP Nonce", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Revoke_ThenQuery_IsRevokedWithReasonWithAndWithoutNonce()
    {
        // A cached, pre-signed "good" exists first, so the revocation must reach the cache.
        Assert.Contains("revoked.pem: good", (await ca.QueryAsync("revoked.pem", "-no_nonce")).StandardOutput, StringComparison.Ordinal);

        var revoke = await Minica.RunAsync(ca.Directory, ["revoke", "--serial", await ca.SerialAsync("revoked"), "--reason", "keyCompromise"], ca.PublicBase());
        Assert.True(revoke.ExitCode == 0, revoke.Combined);

        var withNonce = await ca.QueryAsync("revoked.pem");
        Assert.Contains("revoked.pem: revoked", withNonce.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Reason: keyCompromise", withNonce.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Response verify OK", withNonce.Combined, StringComparison.Ordinal);

        // The revocation came from another process: the host notices it within a second.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var cached = await ca.QueryAsync("revoked.pem", "-no_nonce");
        Assert.Contains("revoked.pem: revoked", cached.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Response verify OK", cached.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoke_ReasonRaisedToKeyCompromiseByAnotherProcess_ReachesTheCachedResponse()
    {
        await ca.IssueAsync("raised");
        var serial = await ca.SerialAsync("raised");
        var first = await Minica.RunAsync(ca.Directory, ["revoke", "--serial", serial, "--reason", "superseded"], ca.PublicBase());
        Assert.True(first.ExitCode == 0, first.Combined);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Contains("Reason: superseded", (await ca.QueryAsync("raised.pem", "-no_nonce")).StandardOutput, StringComparison.Ordinal);

        // The key is reported compromised afterwards, from the CLI: the reason is raised and the revocation date kept,
        // and the host's cached response (revoked, superseded) must go.
        var raise = await Minica.RunAsync(ca.Directory, ["revoke", "--serial", serial, "--reason", "keyCompromise"], ca.PublicBase());
        Assert.True(raise.ExitCode == 0, raise.Combined);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var raised = await ca.QueryAsync("raised.pem", "-no_nonce");
        Assert.Contains("raised.pem: revoked", raised.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Reason: keyCompromise", raised.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Response verify OK", raised.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Base64Request_IsGoodAndCacheable()
    {
        var request = ca.Path("get-req.der");
        await ProcessRunner.RunAsync(ca.Openssl, ["ocsp", "-issuer", "data/ca/issuing.pem", "-cert", "good.pem", "-no_nonce", "-reqout", request], workingDirectory: ca.Directory);
        var encoded = Uri.EscapeDataString(Convert.ToBase64String(File.ReadAllBytes(request)));

        using var response = await ca.Host.Client.GetAsync("ocsp/" + encoded);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ocsp-response", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.MaxAge > TimeSpan.FromHours(23));
        Assert.True(response.Headers.CacheControl?.Public);
        Assert.NotNull(response.Headers.ETag);
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.NotNull(response.Content.Headers.Expires);
        var body = ca.Path("get-resp.der");
        File.WriteAllBytes(body, await response.Content.ReadAsByteArrayAsync());
        var check = await ProcessRunner.RunAsync(ca.Openssl, [
            "ocsp", "-respin", body, "-issuer", "data/ca/issuing.pem", "-cert", "good.pem", "-CAfile", "data/ca/root.pem", "-no_nonce"], workingDirectory: ca.Directory);
        Assert.Contains("Response verify OK", check.Combined, StringComparison.Ordinal);
        Assert.Contains("good.pem: good", check.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_SerialNeverIssued_IsUnknown()
    {
        var result = await ProcessRunner.RunAsync(ca.Openssl, [
            "ocsp", "-issuer", "data/ca/issuing.pem", "-serial", "0x123456789abcdef0123", "-url", ca.Url, "-CAfile", "data/ca/root.pem"], workingDirectory: ca.Directory);

        Assert.Contains(": unknown", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Response verify OK", result.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_OtherIssuer_IsUnauthorized()
    {
        var result = await ProcessRunner.RunAsync(ca.Openssl, [
            "ocsp", "-issuer", "data/ca/root.pem", "-cert", "data/ca/issuing.pem", "-url", ca.Url, "-CAfile", "data/ca/root.pem"], workingDirectory: ca.Directory);

        Assert.Contains("unauthorized (6)", result.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_Sha256CertId_IsAnswered()
    {
        var result = await ca.QueryWithDigestAsync("good.pem", "-sha256");

        Assert.Contains("good.pem: good", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Response verify OK", result.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_UnsupportedHash_IsUnauthorized()
    {
        var result = await ca.QueryWithDigestAsync("good.pem", "-sha512");

        Assert.Contains("unauthorized (6)", result.Combined, StringComparison.Ordinal);
    }

    public static TheoryData<string> MalformedBodies => ["empty", "garbage", "truncated", "oversized nonce"];

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Post_Malformed_IsMalformedRequestAndTheResponderStaysHealthy(string kind)
    {
        var valid = ca.Path("valid-req.der");
        await ProcessRunner.RunAsync(ca.Openssl, ["ocsp", "-issuer", "data/ca/issuing.pem", "-cert", "good.pem", "-reqout", valid], workingDirectory: ca.Directory);
        var bytes = File.ReadAllBytes(valid);
        var body = kind switch
        {
            "empty" => [],
            "garbage" => "this is not DER"u8.ToArray(),
            "truncated" => bytes[..(bytes.Length / 2)],
            _ => OversizedNonce(bytes),
        };

        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var response = await ca.Host.Client.PostAsync("ocsp", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MalformedRequest, await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("good.pem: good", (await ca.QueryAsync("good.pem")).StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>The same request carrying a 64-octet nonce; RFC 8954 allows 1..32.</summary>
    private static byte[] OversizedNonce(byte[] valid)
    {
        var request = Org.BouncyCastle.Asn1.Ocsp.OcspRequest.GetInstance(Org.BouncyCastle.Asn1.Asn1Object.FromByteArray(valid));
        var extensions = new Org.BouncyCastle.Asn1.X509.X509Extensions(new Dictionary<Org.BouncyCastle.Asn1.DerObjectIdentifier, Org.BouncyCastle.Asn1.X509.X509Extension>
        {
            [Org.BouncyCastle.Asn1.Ocsp.OcspObjectIdentifiers.PkixOcspNonce] = new(false, new Org.BouncyCastle.Asn1.DerOctetString(new Org.BouncyCastle.Asn1.DerOctetString(new byte[64]))),
        });
        return new Org.BouncyCastle.Asn1.Ocsp.OcspRequest(new Org.BouncyCastle.Asn1.Ocsp.TbsRequest(null, request.TbsRequest.RequestList, extensions), null).GetEncoded();
    }

    [Fact]
    public async Task Post_WrongContentTypeOrHugeBody_Is4xx()
    {
        using var text = new StringContent("hello", System.Text.Encoding.UTF8, "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await ca.Host.Client.PostAsync("ocsp", text)).StatusCode);

        using var huge = new ByteArrayContent(new byte[1024 * 1024]);
        huge.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await ca.Host.Client.PostAsync("ocsp", huge)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await ca.Host.Client.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task Get_BadBase64_IsMalformedRequest()
    {
        using var response = await ca.Host.Client.GetAsync("ocsp/%%%not-base64!!");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MalformedRequest, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Connection_ClosedWithoutSending_DoesNotDisturbOthers()
    {
        for (var i = 0; i < 20; i++)
        {
            using var socket = new System.Net.Sockets.TcpClient();
            await socket.ConnectAsync("localhost", ca.Host.Port);
        }

        var result = await ca.QueryAsync("good.pem");
        Assert.Contains("good.pem: good", result.StandardOutput, StringComparison.Ordinal);
    }
}
