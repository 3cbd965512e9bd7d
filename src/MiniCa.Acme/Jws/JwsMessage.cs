using System.Text;
using System.Text.Json;

namespace MiniCa.Acme.Jws;

/// <summary>
/// A JWS in flattened JSON serialisation (RFC 7515 §7.2.2) as ACME uses it (RFC 8555 §6.2): protected header with
/// <c>alg</c>, <c>nonce</c>, <c>url</c> and exactly one of <c>jwk</c> and <c>kid</c>; no unprotected header.
/// Parsing checks the shape; <see cref="VerifyWith"/> checks the signature.
/// </summary>
internal sealed class JwsMessage
{
    private JwsMessage(JsonElement header, string algorithm, string? nonce, string? url, JsonElement? jwk, string? kid, byte[] payload, byte[] signingInput, byte[] signature)
    {
        Header = header;
        Algorithm = algorithm;
        Nonce = nonce;
        Url = url;
        Jwk = jwk;
        Kid = kid;
        Payload = payload;
        SigningInput = signingInput;
        Signature = signature;
    }

    public JsonElement Header { get; }

    public string Algorithm { get; }

    public string? Nonce { get; }

    public string? Url { get; }

    public JsonElement? Jwk { get; }

    public string? Kid { get; }

    /// <summary>The decoded payload (empty for POST-as-GET).</summary>
    public byte[] Payload { get; }

    public byte[] SigningInput { get; }

    public byte[] Signature { get; }

    /// <summary>Whether this is a POST-as-GET (RFC 8555 §6.3: the payload is the empty string).</summary>
    public bool IsPostAsGet => Payload.Length == 0;

    /// <summary>Parses the request body; any deviation is <c>malformed</c> (or <c>badSignatureAlgorithm</c>).</summary>
    public static JwsMessage Parse(ReadOnlySpan<byte> body)
    {
        // RFC 8259 §8.1: JSON text is UTF-8. The JSON reader checks a string's bytes only when it reads them as text.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new AcmeException("malformed", "The request body is not UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            throw new AcmeException("malformed", "The request body is not JSON.");
        }

        using (document)
        {
            return Parse(document.RootElement.Clone());
        }
    }

    /// <summary>Parses a JWS object (also an inner JWS: keyChange, externalAccountBinding).</summary>
    public static JwsMessage Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new AcmeException("malformed", "The JWS is not a JSON object.");
        }

        foreach (var member in root.EnumerateObject())
        {
            if (member.Name is not ("protected" or "payload" or "signature"))
            {
                throw new AcmeException("malformed", $"The JWS has member '{member.Name}'; flattened JSON serialisation has only protected, payload and signature (RFC 8555 §6.2).");
            }
        }

        var protectedText = Member(root, "protected");
        var payloadText = Member(root, "payload");
        var signatureText = Member(root, "signature");
        var headerBytes = Base64Url.Decode(protectedText, "The protected header");
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
        {
            throw new AcmeException("malformed", "The protected header is not UTF-8.");
        }

        JsonElement header;
        try
        {
            using var headerDocument = JsonDocument.Parse(headerBytes);
            header = headerDocument.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new AcmeException("malformed", "The protected header is not JSON.");
        }

        if (header.ValueKind != JsonValueKind.Object)
        {
            throw new AcmeException("malformed", "The protected header is not a JSON object.");
        }

        var algorithm = OptionalString(header, "alg") ?? throw new AcmeException("malformed", "The protected header has no 'alg'.");
        JsonElement? jwk = header.TryGetProperty("jwk", out var key) ? key : null;
        var kid = OptionalString(header, "kid");
        var nonce = OptionalString(header, "nonce");
        var url = OptionalString(header, "url");
        return new JwsMessage(header, algorithm, nonce, url, jwk, kid, Base64Url.Decode(payloadText, "The payload"),
            Encoding.ASCII.GetBytes(protectedText + "." + payloadText), Base64Url.Decode(signatureText, "The signature"));
    }

    /// <summary>
    /// Checks the rules of RFC 8555 §6.2 for an outer JWS: a supported asymmetric algorithm, one of jwk/kid (as the
    /// resource wants), a nonce and a url.
    /// </summary>
    public void CheckOuter(bool wantsJwk, bool allowsEither = false)
    {
        CheckAlgorithm();
        if (Jwk is not null && Kid is not null)
        {
            throw new AcmeException("malformed", "The protected header has both 'jwk' and 'kid'; exactly one is allowed.");
        }

        if (Jwk is null && Kid is null)
        {
            throw new AcmeException("malformed", "The protected header has neither 'jwk' nor 'kid'.");
        }

        if (!allowsEither && wantsJwk && Jwk is null)
        {
            throw new AcmeException("malformed", "This resource needs the key itself ('jwk'), not an account URL ('kid').");
        }

        if (!allowsEither && !wantsJwk && Kid is null)
        {
            throw new AcmeException("malformed", "This resource needs the account URL ('kid'), not a 'jwk'.");
        }

        if (string.IsNullOrEmpty(Nonce))
        {
            throw new AcmeException("badNonce", "The protected header has no 'nonce'.");
        }

        if (string.IsNullOrEmpty(Url))
        {
            throw new AcmeException("malformed", "The protected header has no 'url'.");
        }
    }

    /// <summary>A supported asymmetric algorithm; 'none' and MACs are refused (RFC 8555 §6.2).</summary>
    public void CheckAlgorithm()
    {
        if (!AccountKey.Algorithms.Contains(Algorithm))
        {
            throw new AcmeException("badSignatureAlgorithm", $"Algorithm '{Algorithm}' is not accepted; use one of {string.Join(", ", AccountKey.Algorithms)}.");
        }
    }

    /// <summary>Verifies the signature with <paramref name="key"/>, or throws <c>malformed</c>.</summary>
    public void VerifyWith(AccountKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.Fits(Algorithm))
        {
            throw new AcmeException("badSignatureAlgorithm", $"Algorithm '{Algorithm}' does not fit the key.");
        }

        if (!key.Verify(Algorithm, SigningInput, Signature))
        {
            throw new AcmeException("malformed", "The JWS signature does not verify.");
        }
    }

    /// <summary>The payload as JSON of type <typeparamref name="T"/>; bad JSON is <c>malformed</c>.</summary>
    public T PayloadAs<T>()
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Payload) ?? throw new AcmeException("malformed", "The payload is null.");
        }
        catch (JsonException ex)
        {
            throw new AcmeException("malformed", "The payload is not the JSON this resource expects: " + ex.Message.Split('.')[0] + ".", 400, null, ex);
        }
    }

    private static string Member(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? Text(value, $"The JWS member '{name}'")
            : throw new AcmeException("malformed", $"The JWS has no string member '{name}'.");

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind == JsonValueKind.String ? Text(value, $"'{name}' in the protected header") : throw new AcmeException("malformed", $"'{name}' in the protected header is not a string.")
            : null;

    /// <summary>
    /// A JSON string's text. The JSON reader accepts a string's bytes before they are read as text, so a string that
    /// is not UTF-8 is refused here (the reader throws InvalidOperationException).
    /// </summary>
    internal static string Text(JsonElement value, string what)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            throw new AcmeException("malformed", $"{what} is not valid UTF-8.", 400, null, ex);
        }
    }
}
