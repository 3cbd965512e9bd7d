using MiniCa.Core.Identifiers;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Pkcs;

namespace MiniCa.Core.Requests;

/// <summary>A PKCS#10 request whose signature verified, with what MiniCa reads from it.</summary>
public sealed record ParsedCsr
{
    /// <summary>The DER request.</summary>
    public required byte[] Der { get; init; }

    /// <summary>The parsed request.</summary>
    public required Pkcs10CertificationRequest Request { get; init; }

    /// <summary>The requested subject.</summary>
    public required X509Name Subject { get; init; }

    /// <summary>
    /// The requested subject as text to show and to record: RFC 4514's string, its control characters escaped
    /// (<see cref="ControlCharacters.Escape"/>), so that no text stored or shown holds one.
    /// </summary>
    public string SubjectText => ControlCharacters.Escape(Subject.ToString());

    /// <summary>The CSR's common name, if any.</summary>
    public string? CommonName { get; init; }

    /// <summary>The subject public key.</summary>
    public required SubjectPublicKeyInfo PublicKey { get; init; }

    /// <summary>A description such as <c>EC P-256</c> or <c>RSA 3072</c>.</summary>
    public required string KeyDescription { get; init; }

    /// <summary>Identifiers from the requested subjectAltName, normalised (DNS lowercase, IPs canonical) and de-duplicated; the CN is kept apart in <see cref="CommonName"/>.</summary>
    public required IReadOnlyList<Identifier> Identifiers { get; init; }
}
