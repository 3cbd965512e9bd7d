using System.Formats.Asn1;
using System.Security.Cryptography;
using MiniCa.Core.Errors;
using MiniCa.Core.Signing;
using Org.BouncyCastle.X509;

namespace MiniCa.Authority.Issuance;

/// <summary>The issuing CA as the pipeline uses it: certificate, HSM signer, signature algorithm, verifier.</summary>
internal sealed class IssuerContext(string name, X509Certificate certificate, IKeySigner signer, SignatureAlgorithm signatureAlgorithm) : IDisposable
{
    // Verification runs on the platform's crypto (OpenSSL); one key object per thread, as instances are not
    // documented to be thread-safe.
    private readonly ThreadLocal<AsymmetricAlgorithm> _verifier = new(() => PlatformSignatures.CreateKey(certificate.SubjectPublicKeyInfo), trackAllValues: true);

    public string Name { get; } = name;

    public X509Certificate Certificate { get; } = certificate;

    public IKeySigner Signer { get; } = signer;

    public SignatureAlgorithm SignatureAlgorithm { get; } = signatureAlgorithm;

    /// <summary>
    /// Checks that the certificate about to be delivered carries exactly the TBS bytes that were linted and
    /// recorded, and that the HSM's signature over them verifies with the issuer's public key.
    /// </summary>
    public void EnsureSignedAsLinted(byte[] certificateDer, byte[] lintedTbs, byte[] signature)
    {
        // The TBS is the certificate's first element, read where it lies (no re-encoding that could hide a difference).
        int tbsOffset, tbsLength;
        try
        {
            AsnDecoder.ReadSequence(certificateDer, AsnEncodingRules.DER, out tbsOffset, out var contentLength, out _);
            AsnDecoder.ReadEncodedValue(certificateDer.AsSpan(tbsOffset, contentLength), AsnEncodingRules.DER, out _, out _, out tbsLength);
        }
        catch (AsnContentException ex)
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, "The assembled certificate is not valid DER; it is not issued.", ex);
        }

        if (!certificateDer.AsSpan(tbsOffset, tbsLength).SequenceEqual(lintedTbs))
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, "The certificate's TBS bytes differ from the linted ones; it is not issued.");
        }

        if (!PlatformSignatures.Verify(_verifier.Value!, SignatureAlgorithm, lintedTbs, signature))
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, $"The HSM's signature does not verify with the public key of '{Name}'; the certificate is not issued.");
        }
    }

    public void Dispose()
    {
        foreach (var verifier in _verifier.Values)
        {
            verifier.Dispose();
        }

        _verifier.Dispose();
    }
}
