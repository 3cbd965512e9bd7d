using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.X509;

namespace MiniCa.Authority.Ocsp;

/// <summary>The delegated responder's key (in the HSM) and its current certificate.</summary>
/// <param name="Signer">Signs responses.</param>
/// <param name="Certificate">Issued by the issuing CA under the <c>ocsp-signing</c> profile.</param>
public sealed record OcspResponderIdentity(IKeySigner Signer, X509Certificate Certificate);

/// <summary>
/// Keeps a delegated OCSP signing certificate (RFC 6960 §4.2.2.2) for the issuing CA: its key is generated in the
/// HSM once, and its certificate is issued through the ordinary pipeline (lint, record, sign) under the
/// <c>ocsp-signing</c> profile, and renewed when less than half of its validity is left.
/// </summary>
public sealed class OcspResponderCertificate(
    IKeyManager keys,
    IIssuanceReader reader,
    IssuanceService issuance,
    CaOptions options,
    TimeProvider time,
    ILogger<OcspResponderCertificate> logger) : IDisposable
{
    /// <summary>The profile the responder certificate is issued under.</summary>
    public const string Profile = "ocsp-signing";

    private readonly SemaphoreSlim _lock = new(1, 1);
    private OcspResponderIdentity? _current;

    /// <summary>The HSM key's logical name.</summary>
    public string KeyName => $"ocsp-{options.IssuingAuthority}";

    /// <summary>The responder certificate's subject CN.</summary>
    public string CommonName => $"MiniCa OCSP Responder ({options.IssuingAuthority})";

    /// <summary>The identity to sign with now, renewing the certificate when it is past half its life.</summary>
    public async Task<OcspResponderIdentity> GetAsync(CancellationToken cancellationToken = default)
    {
        var current = _current;
        if (current is not null && !NeedsRenewal(current.Certificate))
        {
            return current;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_current is not null && !NeedsRenewal(_current.Certificate))
            {
                return _current;
            }

            var signer = keys.KeyExists(KeyName) ? keys.GetSigner(KeyName) : keys.GenerateKey(KeyName, KeyAlgorithm.Parse(options.Ocsp.KeyAlgorithm));
            var subject = "O=MiniCa,CN=" + CommonName;
            var record = await reader.FindLatestIssuedAsync(Profile, subject, cancellationToken);
            var certificate = record?.Der is { } der ? new X509CertificateParser().ReadCertificate(der) : null;
            if (certificate is null || !certificate.SubjectPublicKeyInfo.Equals(signer.PublicKeyInfo) || NeedsRenewal(certificate))
            {
                certificate = await IssueAsync(signer, cancellationToken);
            }

            _current = new OcspResponderIdentity(signer, certificate);
            return _current;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();

    private bool NeedsRenewal(X509Certificate certificate)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var half = certificate.NotBefore + ((certificate.NotAfter - certificate.NotBefore) / 2);
        return now >= half;
    }

    private async Task<X509Certificate> IssueAsync(IKeySigner signer, CancellationToken cancellationToken)
    {
        // The CSR is signed in the HSM too: proof of possession for a key that never leaves it.
        var csr = new Pkcs10CertificationRequest(
            new SignerSignatureFactory(signer, SignatureAlgorithms.DefaultFor(signer.Algorithm)),
            new X509Name("CN=" + CommonName),
            signer.PublicKey,
            null);
        var outcome = await issuance.SubmitAsync(
            new IssuanceSubmission { Csr = csr.GetEncoded(), Profile = Profile, Requester = "system:ocsp-responder", Source = "system" },
            cancellationToken);
        if (outcome.Status != RequestStatus.Issued)
        {
            throw new CaException(CaErrorKind.InvalidState, $"The OCSP responder certificate could not be issued: {string.Join("; ", outcome.Problems)}");
        }

        logger.LogInformation("OCSP responder certificate issued: serial {Serial}", outcome.SerialHex);
        return new X509CertificateParser().ReadCertificate(outcome.Certificate);
    }
}
