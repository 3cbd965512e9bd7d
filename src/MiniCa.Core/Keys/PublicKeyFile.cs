using System.Text;
using MiniCa.Core.Errors;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Keys;

/// <summary>
/// Reads the public key out of a file an operator is handed: a certificate, a PKCS#10 request or a public key
/// (SubjectPublicKeyInfo), in PEM or DER. A private key is refused with the command that gives its public key.
/// </summary>
public static class PublicKeyFile
{
    /// <summary>Largest file read: a certificate or CSR with many names is a few kilobytes.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The key in <paramref name="content"/> and what held it (<c>certificate</c>, <c>CSR</c>, <c>public key</c>).</summary>
    /// <param name="content">The file's bytes.</param>
    /// <param name="name">The file's name, for messages (or what the content was handed as, with <paramref name="isFile"/> false).</param>
    /// <param name="isFile">Whether <paramref name="name"/> names a file the operator can run OpenSSL on.</param>
    /// <exception cref="CaException">Malformed: not one of the three, or a private key.</exception>
    public static (SubjectPublicKeyInfo Key, string Kind) Read(byte[] content, string name, bool isFile = true)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Length == 0 || content.Length > MaxBytes)
        {
            throw new CaException(CaErrorKind.Malformed, $"{name} is {content.Length} bytes; a certificate, CSR or public key of at most {MaxBytes} bytes is expected.");
        }

        if (content[0] == 0x30)
        {
            return FromDer(content, null, name);
        }

        if (PemBlock.Find(Encoding.ASCII.GetString(content)) is not { Body: not null } block)
        {
            throw new CaException(CaErrorKind.Malformed, $"{name} is neither DER nor a PEM block (BEGIN ... END).");
        }

        var label = block.Label;
        if (label.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new CaException(CaErrorKind.Malformed, $"{name} holds a private key; give its public key instead (openssl pkey -in {(isFile ? name : "KEY.pem")} -pubout).");
        }

        if (label is not ("CERTIFICATE" or "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST" or "PUBLIC KEY"))
        {
            throw new CaException(CaErrorKind.Malformed, $"{name}: the PEM block is '{label}'; CERTIFICATE, CERTIFICATE REQUEST or PUBLIC KEY is expected.");
        }

        var der = block.Decode() ?? throw new CaException(CaErrorKind.Malformed, $"{name}: the PEM block '{label}' is not valid base64.");
        if (der.Length == 0)
        {
            throw new CaException(CaErrorKind.Malformed, $"{name}: the PEM block '{label}' is empty.");
        }

        return FromDer(der, label, name);
    }

    private static (SubjectPublicKeyInfo Key, string Kind) FromDer(byte[] der, string? label, string name)
    {
        Asn1Sequence sequence;
        try
        {
            sequence = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(der) ?? throw new IOException("no ASN.1 object"));
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or Asn1ParsingException)
        {
            throw new CaException(CaErrorKind.Malformed, $"{name} is not DER: {(label is null ? "expected a certificate, CSR or public key" : $"the PEM block '{label}' does not decode")}.");
        }

        var candidates = label switch
        {
            "CERTIFICATE" => ["certificate"],
            "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST" => ["CSR"],
            "PUBLIC KEY" => ["public key"],
            _ => new[] { "certificate", "CSR", "public key" },
        };
        foreach (var kind in candidates)
        {
            try
            {
                var key = kind switch
                {
                    "certificate" => X509CertificateStructure.GetInstance(sequence).SubjectPublicKeyInfo,
                    "CSR" => CertificationRequest.GetInstance(sequence).GetCertificationRequestInfo().SubjectPublicKeyInfo,
                    _ => SubjectPublicKeyInfo.GetInstance(sequence),
                };
                return (key, kind);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException)
            {
                // Not this kind; the next one, or the error below.
            }
        }

        var expected = candidates.Length == 1 ? candidates[0] : $"{string.Join(", ", candidates[..^1])} or {candidates[^1]}";
        throw new CaException(CaErrorKind.Malformed, $"{name} is not a {expected} (DER).");
    }
}
