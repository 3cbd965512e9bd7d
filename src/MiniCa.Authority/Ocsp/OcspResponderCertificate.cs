using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Revocation;
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
public sealed class OcspResponderCertificate : IDisposable
{
    /// <summary>The profile the responder certificate is issued under.</summary>
    public const string Profile = "ocsp-signing";

    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly IKeyManager _keys;
    private readonly IIssuanceReader _reader;
    private readonly IssuanceService _issuance;
    private readonly RevocationService _revocations;
    private readonly CaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<OcspResponderCertificate> _logger;
    private OcspResponderIdentity? _current;
    private string? _dropped;

    /// <summary>Creates the keeper; a revocation of the current certificate in this process drops it at once.</summary>
    public OcspResponderCertificate(IKeyManager keys, IIssuanceReader reader, IssuanceService issuance, RevocationService revocations, CaOptions options, TimeProvider time, ILogger<OcspResponderCertificate> logger)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        _keys = keys;
        _reader = reader;
        _issuance = issuance;
        _revocations = revocations;
        _options = options;
        _time = time;
        _logger = logger;
        revocations.Revoked += OnRevoked;
    }

    /// <summary>The HSM key's logical name.</summary>
    public string KeyName => $"ocsp-{_options.IssuingAuthority}";

    /// <summary>The responder certificate's subject CN.</summary>
    public string CommonName => $"MiniCa OCSP Responder ({_options.IssuingAuthority})";

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

            var signer = await UsableSignerAsync(cancellationToken);
            var subject = "O=MiniCa,CN=" + CommonName;
            var record = await _reader.FindLatestIssuedAsync(Profile, subject, cancellationToken);
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

    /// <summary>
    /// Drops the current certificate when it is the one revoked (the OCSP responder calls this for revocations made by
    /// other processes too), so that the next response is signed under a new certificate, and with a new key when
    /// the revocation blocked the old one.
    /// </summary>
    /// <returns>
    /// Whether <paramref name="serialHex"/> is the responder's certificate, current or dropped last: each listener of a
    /// revocation learns it, whichever of them dropped it.
    /// </returns>
    public bool Forget(string serialHex)
    {
        if (_current is { } current && current.Certificate.SerialNumber.ToString(16) == serialHex
            && Interlocked.CompareExchange(ref _current, null, current) == current)
        {
            Volatile.Write(ref _dropped, serialHex);
            _logger.LogWarning("OCSP responder certificate {Serial} was revoked; the next response gets a new one", serialHex);
            return true;
        }

        return serialHex == Volatile.Read(ref _dropped);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _revocations.Revoked -= OnRevoked;
        _lock.Dispose();
    }

    private void OnRevoked(CertificateRecord certificate) => _ = Forget(certificate.SerialHex);

    /// <summary>
    /// The responder's key: the first of <see cref="KeyName"/>, <c>KeyName-2</c>, <c>KeyName-3</c>, … that is not
    /// blocked, generated when there is none. A key reported compromised (its certificate revoked for keyCompromise)
    /// is never certified again (BR §6.1.1.3 (4)), so the responder moves on to a new key instead of failing.
    /// </summary>
    private async Task<IKeySigner> UsableSignerAsync(CancellationToken cancellationToken)
    {
        for (var generation = 1; ; generation++)
        {
            var name = generation == 1 ? KeyName : $"{KeyName}-{generation}";
            if (!_keys.KeyExists(name))
            {
                return _keys.GenerateKey(name, KeyAlgorithm.Parse(_options.Ocsp.KeyAlgorithm));
            }

            var signer = _keys.GetSigner(name);
            if (await _reader.FindBlockedKeyAsync(PublicKeyFingerprint.Sha256(signer.PublicKeyInfo), cancellationToken) is not { } blocked)
            {
                return signer;
            }

            _logger.LogWarning("OCSP responder key {Key} is blocked ({Source} revoked for {Reason}); trying the next", name, blocked.Source, blocked.Reason);
        }
    }

    private bool NeedsRenewal(X509Certificate certificate)
    {
        var now = _time.GetUtcNow().UtcDateTime;
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
        var outcome = await _issuance.SubmitAsync(
            new IssuanceSubmission { Csr = csr.GetEncoded(), Profile = Profile, Requester = "system:ocsp-responder", Source = "system" },
            cancellationToken);
        if (outcome.Status != RequestStatus.Issued)
        {
            throw new CaException(CaErrorKind.InvalidState, $"The OCSP responder certificate could not be issued: {string.Join("; ", outcome.Problems)}");
        }

        _logger.LogInformation("OCSP responder certificate issued: serial {Serial}", outcome.SerialHex);
        return new X509CertificateParser().ReadCertificate(outcome.Certificate);
    }
}
