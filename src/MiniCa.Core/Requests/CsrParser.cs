using System.Net;
using System.Security.Cryptography;
using System.Text;
using MiniCa.Core.Identifiers;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace MiniCa.Core.Requests;

/// <summary>The outcome of reading a CSR: the request, or every reason it was refused.</summary>
/// <param name="Csr">The request when it could be read and its signature verified.</param>
/// <param name="Problems">Every problem found; empty when the CSR is acceptable.</param>
public sealed record CsrParseResult(ParsedCsr? Csr, IReadOnlyList<string> Problems)
{
    /// <summary>Whether the CSR may go on to policy checks.</summary>
    public bool IsValid => Csr is not null && Problems.Count == 0;
}

/// <summary>
/// Reads PKCS#10 requests (RFC 2986) in PEM or DER, verifies the self-signature, applies the key policy every
/// profile shares and extracts identifiers. All problems are reported at once.
/// </summary>
public static class CsrParser
{
    /// <summary>Largest CSR accepted; a real one is a few kilobytes even with hundreds of names.</summary>
    public const int MaxBytes = 64 * 1024;

    private const string PemLabel = "CERTIFICATE REQUEST";

    /// <summary>Parses <paramref name="input"/> (PEM text or DER bytes), with no lists of blocked keys.</summary>
    public static CsrParseResult Parse(ReadOnlySpan<byte> input) => Parse(input, BlockedKeyLists.None);

    /// <summary>Parses <paramref name="input"/> (PEM text or DER bytes); an RSA key that <paramref name="blockedKeys"/> lists is refused.</summary>
    public static CsrParseResult Parse(ReadOnlySpan<byte> input, BlockedKeyLists blockedKeys)
    {
        ArgumentNullException.ThrowIfNull(blockedKeys);
        if (input.IsEmpty)
        {
            return Fail("the CSR is empty");
        }

        if (input.Length > MaxBytes)
        {
            return Fail($"the CSR is {input.Length} bytes; at most {MaxBytes} are accepted");
        }

        var der = ToDer(input, out var encodingProblem);
        if (der is null)
        {
            return Fail(encodingProblem!);
        }

        Pkcs10CertificationRequest request;
        try
        {
            var asn1 = Asn1Object.FromByteArray(der) ?? throw new FormatException("no ASN.1 object");
            request = new Pkcs10CertificationRequest(CertificationRequest.GetInstance(asn1).GetEncoded(Asn1Encodable.Der));
            _ = request.GetCertificationRequestInfo().SubjectPublicKeyInfo.Algorithm;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or InvalidOperationException or Asn1ParsingException or FormatException)
        {
            return Fail("the input is not a PKCS#10 certificate request (PEM or DER)");
        }

        var problems = new List<string>();
        var info = request.GetCertificationRequestInfo();
        var spki = info.SubjectPublicKeyInfo;
        var (publicKey, keyDescription) = CheckKey(spki, blockedKeys, problems);
        if (publicKey is not null && !VerifySignature(request, publicKey))
        {
            problems.Add("the CSR's signature does not verify with its public key (proof of possession failed)");
        }

        var subject = info.Subject;
        var commonNames = subject.GetValueList(X509Name.CN);
        if (commonNames.Count > 1)
        {
            problems.Add("the subject has more than one CN");
        }

        var commonName = commonNames.Count > 0 ? commonNames[0] : null;
        var identifiers = ReadIdentifiers(request, problems);
        return new CsrParseResult(
            new ParsedCsr
            {
                Der = der,
                Request = request,
                Subject = subject,
                CommonName = commonName,
                PublicKey = spki,
                KeyDescription = keyDescription,
                Identifiers = identifiers,
            },
            problems);
    }

    private static CsrParseResult Fail(string problem) => new(null, [problem]);

    private static byte[]? ToDer(ReadOnlySpan<byte> input, out string? problem)
    {
        problem = null;
        if (input[0] == 0x30)
        {
            return input.ToArray();
        }

        if (PemBlock.Find(Encoding.ASCII.GetString(input)) is not { } block)
        {
            problem = "the input is neither DER nor PEM";
            return null;
        }

        if (block.Label.Length == 0)
        {
            problem = "the PEM BEGIN line does not end in '-----'";
            return null;
        }

        if (block.Label is not (PemLabel or "NEW " + PemLabel))
        {
            problem = $"the PEM block is '{block.Label}', not '{PemLabel}'";
            return null;
        }

        if (block.Body is null)
        {
            problem = "the PEM block has no END line";
            return null;
        }

        var der = block.Decode();
        problem = der is null ? "the PEM block is not valid base64" : der.Length == 0 ? "the PEM block is empty" : null;
        return problem is null ? der : null;
    }

    /// <summary>
    /// Key policy shared by every profile: RSA 2048..8192 with e = 65537 and none of the weaknesses of
    /// <see cref="WeakRsaKeys"/>, named P-256/P-384/P-521, Ed25519.
    /// </summary>
    private static (AsymmetricKeyParameter? Key, string Description) CheckKey(SubjectPublicKeyInfo spki, BlockedKeyLists blockedKeys, List<string> problems)
    {
        AsymmetricKeyParameter key;
        try
        {
            key = PublicKeyFactory.CreateKey(spki);
        }
        // BouncyCastle reports an EC point that is not a point's encoding as a FormatException.
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or SecurityUtilityException or IOException or InvalidCastException or FormatException)
        {
            problems.Add($"the public key ({spki.Algorithm.Algorithm.Id}) cannot be read or is of an unsupported type");
            return (null, spki.Algorithm.Algorithm.Id);
        }

        switch (key)
        {
            case RsaKeyParameters rsa:
            {
                var bits = rsa.Modulus.BitLength;
                // BR §6.1.5: at least 2048 bits; 8192 bounds the cost of verifying.
                if (bits < 2048)
                {
                    problems.Add($"the RSA key has {bits} bits; at least 2048 are required (BR §6.1.5)");
                }
                else if (bits > 8192)
                {
                    problems.Add($"the RSA key has {bits} bits; at most 8192 are accepted");
                }

                // BR §6.1.6 permits odd exponents 3 <= e < 2^256; MiniCa accepts only F4, the universal choice.
                if (!rsa.Exponent.Equals(Org.BouncyCastle.Math.BigInteger.ValueOf(65537)))
                {
                    problems.Add($"the RSA public exponent is {rsa.Exponent}; only 65537 is accepted");
                }

                if (bits is >= 2048 and <= 8192)
                {
                    problems.AddRange(WeakRsaKeys.Problems(rsa.Modulus.ToByteArrayUnsigned()));
                    if (blockedKeys.Problem(rsa.Modulus) is { } listed)
                    {
                        problems.Add(listed);
                    }
                }

                return (key, $"RSA {bits}");
            }

            case ECPublicKeyParameters ec:
            {
                var curve = ec.PublicKeyParamSet is { } oid ? CurveName(oid) : null;
                if (curve is null)
                {
                    problems.Add(ec.PublicKeyParamSet is null
                        ? "the EC key uses explicit curve parameters; only named curves are accepted (RFC 5480 §2.1.1)"
                        : $"the EC key is on curve {ec.PublicKeyParamSet.Id}; only P-256, P-384 and P-521 are accepted (BR §6.1.5)");
                    return (key, "EC " + (ec.PublicKeyParamSet?.Id ?? "explicit"));
                }

                return (key, "EC " + curve);
            }

            case Ed25519PublicKeyParameters:
                return (key, "Ed25519");

            default:
                problems.Add($"the key type {spki.Algorithm.Algorithm.Id} is not accepted (RSA, EC P-256/P-384/P-521, Ed25519)");
                return (null, spki.Algorithm.Algorithm.Id);
        }
    }

    /// <summary>The name of a named curve MiniCa accepts, or <see langword="null"/>.</summary>
    public static string? CurveName(DerObjectIdentifier oid)
    {
        ArgumentNullException.ThrowIfNull(oid);
        if (oid.Equals(SecObjectIdentifiers.SecP256r1))
        {
            return "P-256";
        }

        if (oid.Equals(SecObjectIdentifiers.SecP384r1))
        {
            return "P-384";
        }

        return oid.Equals(SecObjectIdentifiers.SecP521r1) ? "P-521" : null;
    }

    /// <summary>
    /// Verifies the request's signature. RSA and ECDSA go through OpenSSL, which is several times faster than managed
    /// code on the issuance hot path (ECDSA through its EC_KEY interface where it can: <see cref="OpenSslEcdsa"/>);
    /// other algorithms through BouncyCastle.
    /// </summary>
    private static bool VerifySignature(Pkcs10CertificationRequest request, AsymmetricKeyParameter publicKey)
    {
        var signed = request.GetCertificationRequestInfo().GetEncoded(Asn1Encodable.Der);
        var algorithm = request.SignatureAlgorithm.Algorithm;
        try
        {
            // A signature (or key) BIT STRING that is not whole octets cannot verify: BouncyCastle throws an IOException.
            var signature = request.GetSignatureOctets();
            var hash = HashFor(algorithm);
            if (hash is { } h && publicKey is ECPublicKeyParameters ec && algorithm.Id.StartsWith("1.2.840.10045.4.3.", StringComparison.Ordinal))
            {
                if (ec.PublicKeyParamSet is { } curveOid && CurveName(curveOid) is { } curve
                    && OpenSslEcdsa.Verify(curve, request.GetCertificationRequestInfo().SubjectPublicKeyInfo.PublicKey.GetOctets(), Digest(h, signed), signature) is { } verified)
                {
                    return verified;
                }

                using var ecdsa = ECDsa.Create();
                ecdsa.ImportSubjectPublicKeyInfo(request.GetCertificationRequestInfo().SubjectPublicKeyInfo.GetEncoded(Asn1Encodable.Der), out _);
                return ecdsa.VerifyData(signed, signature, h, DSASignatureFormat.Rfc3279DerSequence);
            }

            if (hash is { } rh && publicKey is RsaKeyParameters && !algorithm.Equals(PkcsObjectIdentifiers.IdRsassaPss))
            {
                using var rsa = RSA.Create();
                rsa.ImportSubjectPublicKeyInfo(request.GetCertificationRequestInfo().SubjectPublicKeyInfo.GetEncoded(Asn1Encodable.Der), out _);
                return rsa.VerifyData(signed, signature, rh, RSASignaturePadding.Pkcs1);
            }

            return request.Verify(publicKey);
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidKeyException or SignatureException or ArgumentException or SecurityUtilityException or InvalidOperationException or IOException)
        {
            return false;
        }
    }

    private static byte[] Digest(HashAlgorithmName hash, byte[] data) =>
        hash == HashAlgorithmName.SHA256 ? SHA256.HashData(data) : hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data) : SHA512.HashData(data);

    private static HashAlgorithmName? HashFor(DerObjectIdentifier algorithm) => algorithm.Id switch
    {
        "1.2.840.10045.4.3.2" or "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
        "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
        "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static List<Identifier> ReadIdentifiers(Pkcs10CertificationRequest request, List<string> problems)
    {
        var identifiers = new List<Identifier>();
        X509Extensions? extensions = null;
        try
        {
            extensions = request.GetRequestedExtensions();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException)
        {
            problems.Add("the CSR's extensionRequest attribute is malformed");
        }

        var san = extensions?.GetExtension(X509Extensions.SubjectAlternativeName);
        if (san is not null)
        {
            GeneralNames names;
            try
            {
                names = GeneralNames.GetInstance(san.GetParsedValue());
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException)
            {
                problems.Add("the requested subjectAltName extension is malformed");
                return identifiers;
            }

            foreach (var name in names.GetNames())
            {
                var identifier = ReadGeneralName(name, problems);
                if (identifier is not null && !identifiers.Contains(identifier))
                {
                    identifiers.Add(identifier);
                }
            }
        }

        return identifiers;
    }

    private static Identifier? ReadGeneralName(GeneralName name, List<string> problems)
    {
        switch (name.TagNo)
        {
            case GeneralName.DnsName:
                return new Identifier(IdentifierType.Dns, DerIA5String.GetInstance(name.Name).GetString().ToLowerInvariant());
            case GeneralName.IPAddress:
            {
                var octets = Asn1OctetString.GetInstance(name.Name).GetOctets();
                if (octets.Length is not (4 or 16))
                {
                    // RFC 5280 §4.2.1.6: four octets for IPv4, sixteen for IPv6.
                    problems.Add($"an iPAddress name has {octets.Length} octets (4 or 16 expected)");
                    return null;
                }

                return new Identifier(IdentifierType.Ip, new IPAddress(octets).ToString());
            }

            case GeneralName.Rfc822Name:
            {
                var email = DerIA5String.GetInstance(name.Name).GetString();
                var at = email.LastIndexOf('@');
                return new Identifier(IdentifierType.Email, at > 0 ? email[..at] + "@" + email[(at + 1)..].ToLowerInvariant() : email);
            }

            case GeneralName.UniformResourceIdentifier:
                return new Identifier(IdentifierType.Uri, DerIA5String.GetInstance(name.Name).GetString());
            default:
                problems.Add($"subjectAltName of type {name.TagNo} is not supported (DNS, IP, email and URI are)");
                return null;
        }
    }
}
