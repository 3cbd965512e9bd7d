using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MiniCa.Web.Tests;

/// <summary>
/// A small ACME client for protocol tests: it can send well-formed requests and, on purpose, every kind of
/// malformed one (wrong algorithm, wrong key, reused nonce, wrong url, both jwk and kid, oversized bodies).
/// </summary>
internal sealed class AcmeTestClient : IDisposable
{
    private readonly HttpClient _http;

    public AcmeTestClient(Uri baseAddress, ECDsa? key = null)
    {
        _http = new HttpClient { BaseAddress = baseAddress };
        Key = key ?? ECDsa.Create(ECCurve.NamedCurves.nistP256);
    }

    public ECDsa Key { get; }

    public string? Kid { get; set; }

    public JsonElement Directory { get; private set; }

    public string Url(string name) => Directory.GetProperty(name).GetString()!;

    public async Task InitializeAsync()
    {
        Directory = JsonDocument.Parse(await _http.GetStringAsync("/acme/directory")).RootElement.Clone();
    }

    public async Task<string> NonceAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, Url("newNonce"));
        using var response = await _http.SendAsync(request);
        return response.Headers.GetValues("Replay-Nonce").Single();
    }

    public static JsonObject Jwk(ECDsa key)
    {
        var p = key.ExportParameters(false);
        return new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!) };
    }

    public static string Thumbprint(ECDsa key)
    {
        var p = key.ExportParameters(false);
        var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{B64(p.Q.X!)}\",\"y\":\"{B64(p.Q.Y!)}\"}}";
        return B64(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public static string B64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A flattened JWS of <paramref name="payload"/> under <paramref name="header"/>, signed as <paramref name="alg"/> says.</summary>
    public static string Jws(ECDsa signer, JsonObject header, string payload, string alg = "ES256")
    {
        header["alg"] = alg;
        var protectedPart = B64(Encoding.UTF8.GetBytes(header.ToJsonString()));
        var payloadPart = B64(Encoding.UTF8.GetBytes(payload));
        var signature = alg == "ES256"
            ? signer.SignData(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            : alg == "HS256" ? HMACSHA256.HashData(new byte[32], Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart)) : [];
        return new JsonObject { ["protected"] = protectedPart, ["payload"] = payloadPart, ["signature"] = B64(signature) }.ToJsonString();
    }

    /// <summary>Posts a JWS signed by <see cref="Key"/> with <c>kid</c> (or <c>jwk</c> when there is no account yet).</summary>
    public async Task<AcmeReply> PostAsync(string url, object? payload, Action<JsonObject>? tweak = null, ECDsa? signer = null, string alg = "ES256", string? nonce = null)
    {
        var header = new JsonObject { ["nonce"] = nonce ?? await NonceAsync(), ["url"] = url };
        if (Kid is null)
        {
            header["jwk"] = Jwk(Key);
        }
        else
        {
            header["kid"] = Kid;
        }

        tweak?.Invoke(header);
        var body = Jws(signer ?? Key, header, payload is null ? string.Empty : payload as string ?? JsonSerializer.Serialize(payload), alg);
        return await SendRawAsync(url, body);
    }

    public async Task<AcmeReply> SendRawAsync(string url, string body, string contentType = "application/jose+json")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _http.PostAsync(url, content);
        return await AcmeReply.ReadAsync(response);
    }

    public void Dispose()
    {
        _http.Dispose();
        Key.Dispose();
    }
}

/// <summary>A response, read whole.</summary>
internal sealed record AcmeReply(HttpStatusCode Status, string Body, string? ContentType, string? Location, IReadOnlyList<string> Links, string? Nonce, string? RetryAfter)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    /// <summary>The ACME error type after <c>urn:ietf:params:acme:error:</c>.</summary>
    public string? ProblemType => ContentType == "application/problem+json" ? Json.GetProperty("type").GetString()!["urn:ietf:params:acme:error:".Length..] : null;

    public static async Task<AcmeReply> ReadAsync(HttpResponseMessage response) => new(
        response.StatusCode,
        await response.Content.ReadAsStringAsync(),
        response.Content.Headers.ContentType?.MediaType,
        response.Headers.Location?.ToString(),
        response.Headers.TryGetValues("Link", out var links) ? links.ToList() : [],
        response.Headers.TryGetValues("Replay-Nonce", out var nonce) ? nonce.Single() : null,
        response.Headers.TryGetValues("Retry-After", out var retry) ? retry.Single() : null);
}
