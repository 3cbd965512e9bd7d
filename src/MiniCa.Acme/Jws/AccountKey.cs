using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace MiniCa.Acme.Jws;

/// <summary>
/// A public JWK (RFC 7517) that ACME accepts as an account or certificate key: RSA 2048..8192, EC P-256/P-384,
/// Ed25519. It knows its RFC 7638 thumbprint, verifies JWS signatures, and compares itself with a certificate key.
/// </summary>
internal sealed class AccountKey
{
    /// <summary>The JWS algorithms accepted (RFC 8555 §6.2: at least ES256 and EdDSA should be; RS256 is common).</summary>
    public static readonly IReadOnlyList<string> Algorithms = ["RS256", "ES256", "ES384", "EdDSA"];

    private readonly string _kty;
    private readonly string? _crv;
    private readonly byte[] _a;
    private readonly byte[]? _b;

    private AccountKey(string kty, string? crv, byte[] a, byte[]? b)
    {
        _kty = kty;
        _crv = crv;
        _a = a;
        _b = b;
        Canonical = kty switch
        {
            // RFC 7638 §3.2: the required members, in lexicographic order, no whitespace.
            "RSA" => $"{{\"e\":\"{Base64Url.Encode(b!)}\",\"kty\":\"RSA\",\"n\":\"{Base64Url.Encode(a)}\"}}",
            "EC" => $"{{\"crv\":\"{crv}\",\"kty\":\"EC\",\"x\":\"{Base64Url.Encode(a)}\",\"y\":\"{Base64Url.Encode(b!)}\"}}",
            _ => $"{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{Base64Url.Encode(a)}\"}}",
        };
        Thumbprint = Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical)));
    }

    /// <summary>The key's canonical JSON (what is stored).</summary>
    public string Canonical { get; }

    /// <summary>RFC 7638 SHA-256 thumbprint, base64url.</summary>
    public string Thumbprint { get; }

    /// <summary>Parses a JWK; an unsupported or weak key is <c>badPublicKey</c>.</summary>
    public static AccountKey Parse(JsonElement jwk)
    {
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            throw new AcmeException("malformed", "The jwk is not a JSON object.");
        }

        if (jwk.TryGetProperty("d", out _) || jwk.TryGetProperty("p", out _))
        {
            throw new AcmeException("badPublicKey", "The jwk contains private key material; send only the public key.");
        }

        var kty = String(jwk, "kty");
        switch (kty)
        {
            case "RSA":
            {
                var n = Base64Url.Decode(String(jwk, "n"), "jwk.n");
                var e = Base64Url.Decode(String(jwk, "e"), "jwk.e");
                var bits = (n.Length - (n.Length > 0 && n[0] == 0 ? 1 : 0)) * 8;
                if (bits is < 2048 or > 8192)
                {
                    throw new AcmeException("badPublicKey", $"RSA keys must be 2048 to 8192 bits; this one is about {bits}.");
                }

                var modulus = n.SkipWhile(x => x == 0).ToArray();
                var exponent = e.SkipWhile(x => x == 0).ToArray();
                // RFC 8017 §3.1: an odd modulus, and an odd exponent of at least 3 (here at most 32 bits, as OpenSSL's).
                if (modulus.Length == 0 || exponent.Length is 0 or > 4 || (exponent[^1] & 1) == 0 || exponent is [1] || (modulus[^1] & 1) == 0)
                {
                    throw new AcmeException("badPublicKey", "The RSA key is not valid: its modulus and its public exponent (3 to 2^32) must be odd.");
                }

                var rsaKey = new AccountKey("RSA", null, modulus, exponent);
                try
                {
                    _ = rsaKey.SubjectPublicKeyInfo();
                }
                catch (CryptographicException ex)
                {
                    throw new AcmeException("badPublicKey", "The RSA key is not valid.", 400, null, ex);
                }

                return rsaKey;
            }

            case "EC":
            {
                var crv = String(jwk, "crv");
                var size = crv switch
                {
                    "P-256" => 32,
                    "P-384" => 48,
                    _ => throw new AcmeException("badPublicKey", $"EC keys must be on P-256 or P-384, not '{crv}'."),
                };
                var x = Base64Url.Decode(String(jwk, "x"), "jwk.x");
                var y = Base64Url.Decode(String(jwk, "y"), "jwk.y");
                if (x.Length != size || y.Length != size)
                {
                    throw new AcmeException("badPublicKey", $"The {crv} point has the wrong length.");
                }

                var key = new AccountKey("EC", crv, x, y);
                using var probe = key.CreateEcdsa();
                return key;
            }

            case "OKP":
            {
                if (String(jwk, "crv") != "Ed25519")
                {
                    throw new AcmeException("badPublicKey", "OKP keys must be Ed25519.");
                }

                var x = Base64Url.Decode(String(jwk, "x"), "jwk.x");
                if (x.Length != 32)
                {
                    throw new AcmeException("badPublicKey", "An Ed25519 key is 32 bytes.");
                }

                try
                {
                    // RFC 8032 §5.1.3: the 32 bytes must decode to a point of the curve.
                    _ = new Ed25519PublicKeyParameters(x);
                }
                catch (ArgumentException ex)
                {
                    throw new AcmeException("badPublicKey", "The Ed25519 key is not a point of the curve.", 400, null, ex);
                }

                return new AccountKey("OKP", "Ed25519", x, null);
            }

            default:
                throw new AcmeException("badPublicKey", $"Key type '{kty}' is not supported (RSA, EC, OKP).");
        }
    }

    /// <summary>Parses stored canonical JSON.</summary>
    public static AccountKey FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Parse(document.RootElement);
    }

    /// <summary>Whether <paramref name="algorithm"/> fits this key (RS256 with RSA, ES256 with P-256, ES384 with P-384, EdDSA with Ed25519).</summary>
    public bool Fits(string algorithm) => (algorithm, _kty, _crv) switch
    {
        ("RS256", "RSA", _) => true,
        ("ES256", "EC", "P-256") => true,
        ("ES384", "EC", "P-384") => true,
        ("EdDSA", "OKP", "Ed25519") => true,
        _ => false,
    };

    /// <summary>Verifies a JWS signature over <paramref name="signingInput"/>.</summary>
    public bool Verify(string algorithm, byte[] signingInput, byte[] signature)
    {
        if (!Fits(algorithm))
        {
            return false;
        }

        try
        {
            switch (_kty)
            {
                case "RSA":
                {
                    using var rsa = RSA.Create(new RSAParameters { Modulus = _a, Exponent = _b });
                    return rsa.VerifyData(signingInput, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }

                case "EC":
                {
                    using var ec = CreateEcdsa();
                    var hash = _crv == "P-256" ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA384;
                    // RFC 7518 §3.4: R || S, fixed length.
                    return signature.Length == _a.Length * 2 && ec.VerifyData(signingInput, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                }

                default:
                {
                    var verifier = new Ed25519Signer();
                    verifier.Init(false, new Ed25519PublicKeyParameters(_a));
                    verifier.BlockUpdate(signingInput, 0, signingInput.Length);
                    return verifier.VerifySignature(signature);
                }
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The key as a DER SubjectPublicKeyInfo, to compare with a certificate's.</summary>
    public byte[] SubjectPublicKeyInfo()
    {
        switch (_kty)
        {
            case "RSA":
            {
                using var rsa = RSA.Create(new RSAParameters { Modulus = _a, Exponent = _b });
                return rsa.ExportSubjectPublicKeyInfo();
            }

            case "EC":
            {
                using var ec = CreateEcdsa();
                return ec.ExportSubjectPublicKeyInfo();
            }

            default:
                return Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(new Ed25519PublicKeyParameters(_a)).GetDerEncoded();
        }
    }

    private ECDsa CreateEcdsa()
    {
        try
        {
            return ECDsa.Create(new ECParameters
            {
                Curve = _crv == "P-256" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384,
                Q = new ECPoint { X = _a, Y = _b },
            });
        }
        catch (CryptographicException ex)
        {
            throw new AcmeException("badPublicKey", "The EC point is not on the curve.", 400, null, ex);
        }
    }

    private static string String(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? JwsMessage.Text(value, $"jwk.{name}")
            : throw new AcmeException("malformed", $"The jwk has no string member '{name}'.");
}
