using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Core.Revocation;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;

namespace MiniCa.Authority.Ocsp;

/// <summary>An OCSP answer and, for pre-signed responses, how long caches may keep it.</summary>
/// <param name="Der">The DER OCSPResponse.</param>
/// <param name="ThisUpdate">thisUpdate of a cacheable response.</param>
/// <param name="NextUpdate">nextUpdate of a cacheable response; <see langword="null"/> when it must not be cached.</param>
public sealed record OcspAnswer(byte[] Der, DateTimeOffset? ThisUpdate, DateTimeOffset? NextUpdate)
{
    /// <summary>An entity tag for HTTP caches, computed once per answer (it is served many times).</summary>
    public string ETag { get; } = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Der))[..32] + "\"";

    /// <summary>thisUpdate as an HTTP date (RFC 9110 §5.6.7), for Last-Modified.</summary>
    public string? LastModified { get; } = ThisUpdate?.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>nextUpdate as an HTTP date, for Expires.</summary>
    public string? Expires { get; } = NextUpdate?.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// The OCSP responder (RFC 6960, RFC 5019 profile) for the issuing CA: SHA-1 and SHA-256 CertIDs, several
/// requests per message, nonces echoed (RFC 8954: 1..32 octets), good / revoked / unknown (never good for a serial
/// this CA did not issue), unauthorized for other issuers, malformedRequest for anything unreadable. Responses to
/// nonce-less single requests are pre-signed and cached until half their life or the next revocation.
/// </summary>
public sealed class OcspResponder : IDisposable
{
    /// <summary>Most single requests in one message.</summary>
    public const int MaxRequests = 20;

    private const int CacheLimit = 200_000;
    private static readonly TimeSpan RevocationPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often the database is polled while it does not answer.</summary>
    private static readonly TimeSpan OutagePollInterval = TimeSpan.FromSeconds(2);
    private static readonly byte[] Malformed = new OcspResp(new OcspResponse(new OcspResponseStatus(OcspResponseStatus.MalformedRequest), null)).GetEncoded();
    private static readonly byte[] Unauthorized = new OcspResp(new OcspResponse(new OcspResponseStatus(OcspResponseStatus.Unauthorized), null)).GetEncoded();
    private static readonly byte[] InternalError = new OcspResp(new OcspResponse(new OcspResponseStatus(OcspResponseStatus.InternalError), null)).GetEncoded();
    private static readonly byte[] TryLater = new OcspResp(new OcspResponse(new OcspResponseStatus(OcspResponseStatus.TryLater), null)).GetEncoded();

    private readonly IAuthorityReader _authorities;
    private readonly IIssuanceReader _certificates;
    private readonly OcspResponderCertificate _responder;
    private readonly CaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<OcspResponder> _logger;
    private readonly RevocationService _revocations;
    private readonly IRevocationLedger _ledger;
    private readonly SemaphoreSlim _pollLock = new(1, 1);
    private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private DateTimeOffset _revokedWatermark;
    private long _nextPollTicks;

    /// <summary>1 while the issuance database does not answer (logged once).</summary>
    private int _databaseDown;
    private readonly ConcurrentDictionary<string, OcspAnswer> _cache = new(StringComparer.Ordinal);

    // The CertID each cached answer was made for, so the pre-signer can sign it again without a request.
    private readonly ConcurrentDictionary<string, CertificateID> _ids = new(StringComparer.Ordinal);

    // The same nonce-less request bytes always ask the same question (RFC 5019 clients send exactly these), so the
    // answer is looked up by the bytes themselves before anything is parsed. Each entry remembers the revocation
    // epoch it was made in; any revocation moves the epoch and sends entries back through the serial-keyed cache.
    private readonly ConcurrentDictionary<byte[], (OcspAnswer Answer, long Epoch)> _byRequest = new(RequestBytesComparer.Instance);
    private long _revocationEpoch;
    private readonly SemaphoreSlim _issuerLock = new(1, 1);
    private IssuerHashes? _issuer;

    /// <summary>Creates the responder and subscribes to revocations (they drop the cached response at once).</summary>
    public OcspResponder(
        IAuthorityReader authorities,
        IIssuanceReader certificates,
        OcspResponderCertificate responder,
        RevocationService revocations,
        IRevocationLedger ledger,
        CaOptions options,
        TimeProvider time,
        ILogger<OcspResponder> logger)
    {
        _authorities = authorities;
        _certificates = certificates;
        _responder = responder;
        _options = options;
        _time = time;
        _logger = logger;
        _revocations = revocations;
        _ledger = ledger;
        _revokedWatermark = time.GetUtcNow();
        _revocations.Revoked += OnRevoked;
    }

    /// <summary>Answers a DER OCSPRequest; never throws for bad input.</summary>
    public ValueTask<OcspAnswer> RespondAsync(byte[] request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The hot path (a cached answer, no poll due) completes synchronously, without an async state machine,
        // looking the answer up by the request bytes themselves.
        var requestKey = request.Length is > 0 and <= 512 ? request : null;
        if (_time.GetUtcNow().UtcTicks < Interlocked.Read(ref _nextPollTicks)
            && requestKey is not null && _byRequest.TryGetValue(requestKey, out var hit)
            && hit.Epoch == Interlocked.Read(ref _revocationEpoch) && IsFresh(hit.Answer))
        {
            return ValueTask.FromResult(hit.Answer);
        }

        return RespondSlowlyAsync(request, requestKey, cancellationToken);
    }

    private async ValueTask<OcspAnswer> RespondSlowlyAsync(byte[] request, byte[]? requestKey, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _databaseDown) == 1)
        {
            // While the database is down no revocation can be recorded, so no request waits for the poll that looks
            // whether it is back: over a network an unanswered connection takes Npgsql's connect timeout (15 s).
            PollInBackground();
        }
        else
        {
            await PollRevocationsAsync(cancellationToken);
        }

        if (requestKey is not null && _byRequest.TryGetValue(requestKey, out var hit)
            && hit.Epoch == Interlocked.Read(ref _revocationEpoch) && IsFresh(hit.Answer))
        {
            return hit.Answer;
        }

        var epoch = Interlocked.Read(ref _revocationEpoch);
        var answer = await AnswerAsync(request, cancellationToken);
        if (requestKey is not null && answer.NextUpdate is not null)
        {
            if (_byRequest.Count >= CacheLimit)
            {
                _byRequest.Clear();
            }

            // A copy: the caller's buffer is theirs.
            _byRequest[(byte[])requestKey.Clone()] = (answer, epoch);
        }

        return answer;
    }

    private bool IsFresh(OcspAnswer answer) =>
        answer.ThisUpdate is { } thisUpdate && answer.NextUpdate is { } nextUpdate && _time.GetUtcNow() < thisUpdate + ((nextUpdate - thisUpdate) / 2);

    private async Task<OcspAnswer> AnswerAsync(byte[] request, CancellationToken cancellationToken)
    {
        OcspReq parsed;
        Req[] requests;
        byte[]? nonce;
        try
        {
            parsed = new OcspReq(request);
            requests = parsed.GetRequestList();
            nonce = ReadNonce(parsed);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or InvalidOperationException or FormatException or OcspException or NullReferenceException)
        {
            return new OcspAnswer(Malformed, null, null);
        }

        if (requests.Length is 0 or > MaxRequests || nonce is { Length: 0 or > 32 })
        {
            // RFC 8954 §2.1: a nonce of 1..32 octets; larger ones are refused.
            return new OcspAnswer(Malformed, null, null);
        }

        try
        {
            var issuer = await GetIssuerAsync(cancellationToken);
            if (!requests.All(r => issuer.Matches(r.GetCertID())))
            {
                return new OcspAnswer(Unauthorized, null, null);
            }

            if (nonce is null && requests.Length == 1)
            {
                return await PreSignedAsync(requests[0].GetCertID(), cancellationToken);
            }

            return await SignAsync(requests.Select(r => r.GetCertID()).ToArray(), nonce, cancellationToken);
        }
        catch (Exception ex) when (DatabaseFailure.IsUnavailable(ex))
        {
            // RFC 6960 §4.2.1: tryLater, "the server is unable to process the request at this time".
            DatabaseDown(ex);
            return new OcspAnswer(TryLater, null, null);
        }
        catch (CaException ex)
        {
            _logger.LogError("OCSP response could not be made: {Reason}", ex.Message);
            return new OcspAnswer(InternalError, null, null);
        }
    }

    private async Task<OcspAnswer> PreSignedAsync(CertificateID id, CancellationToken cancellationToken)
    {
        var key = $"{id.HashAlgOid}/{id.SerialNumber.ToString(16)}";
        if (_cache.TryGetValue(key, out var cached) && IsFresh(cached))
        {
            return cached;
        }

        var answer = await SignAsync([id], null, cancellationToken);
        if (_cache.Count >= CacheLimit)
        {
            _cache.Clear();
            _ids.Clear();
        }

        _cache[key] = answer;
        _ids[key] = id;
        return answer;
    }

    /// <summary>
    /// Signs again, ahead of requests, every cached response that a revocation made stale or that is within a
    /// tenth of its half-life, so relying parties keep getting pre-signed answers (RFC 5019 §6.2 caching, RFC 6960).
    /// Returns how many responses were signed.
    /// </summary>
    public async Task<int> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await PollRevocationsAsync(cancellationToken);
        var signed = 0;
        var margin = TimeSpan.FromHours(_options.Ocsp.ValidityHours) / 20;
        foreach (var (key, id) in _ids)
        {
            var stale = !_cache.TryGetValue(key, out var current)
                || _time.GetUtcNow() + margin >= current.ThisUpdate + ((current.NextUpdate - current.ThisUpdate) / 2);
            if (!stale)
            {
                continue;
            }

            var epoch = Interlocked.Read(ref _revocationEpoch);
            _cache[key] = await SignAsync([id], null, cancellationToken);
            signed++;
            if (epoch != Interlocked.Read(ref _revocationEpoch))
            {
                // A revocation landed while signing: the next pass signs this one again.
                _cache.TryRemove(key, out _);
            }
        }

        return signed;
    }

    private async Task<OcspAnswer> SignAsync(CertificateID[] ids, byte[]? nonce, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _databaseDown) == 1)
        {
            // The last poll found the database down: no wait for its connection timeout at every request. The next
            // poll (every OutagePollInterval) finds out when it answers again.
            throw new TimeoutException("The issuance database did not answer the last poll.");
        }

        var responder = await _responder.GetAsync(cancellationToken);
        var now = Org.BouncyCastle.Utilities.Date.DateTimeUtilities.WithPrecisionSecond(_time.GetUtcNow().UtcDateTime);
        var nextUpdate = now.AddHours(_options.Ocsp.ValidityHours);
        // Responder ID by key hash (RFC 6960 §4.2.2.3; RFC 5019 §2.2.3 recommends it).
        var generator = new BasicOcspRespGenerator(new RespID(responder.Signer.PublicKey));
        foreach (var id in ids)
        {
            generator.AddResponse(id, await StatusAsync(id.SerialNumber, cancellationToken), now, nextUpdate, null);
        }

        if (nonce is not null)
        {
            generator.SetResponseExtensions(new X509Extensions(new Dictionary<DerObjectIdentifier, X509Extension>
            {
                [OcspObjectIdentifiers.PkixOcspNonce] = new(false, new DerOctetString(new DerOctetString(nonce))),
            }));
        }

        var factory = new SignerSignatureFactory(responder.Signer, SignatureAlgorithms.DefaultFor(responder.Signer.Algorithm));
        var basic = generator.Generate(factory, [responder.Certificate], now);
        var der = new OCSPRespGenerator().Generate(OCSPRespGenerator.Successful, basic).GetEncoded();
        return nonce is null && ids.Length == 1
            ? new OcspAnswer(der, new DateTimeOffset(now, TimeSpan.Zero), new DateTimeOffset(nextUpdate, TimeSpan.Zero))
            : new OcspAnswer(der, null, null);
    }

    private async Task<Org.BouncyCastle.Ocsp.CertificateStatus> StatusAsync(BigInteger serial, CancellationToken cancellationToken)
    {
        var record = await _certificates.FindCertificateAsync(serial.ToString(16), cancellationToken);
        return record switch
        {
            { IssuerName: var issuer } when issuer != _options.IssuingAuthority => new UnknownStatus(),
            { Status: Core.Ledger.CertificateStatus.Revoked } => new RevokedStatus(
                record.RevokedAt!.Value.UtcDateTime,
                (int)RevocationReasons.Parse(record.RevocationReason!)),
            // A row still being signed may be a certificate in a relying party's hands: it is answered as issued.
            { Status: Core.Ledger.CertificateStatus.Issued or Core.Ledger.CertificateStatus.Signing } => Org.BouncyCastle.Ocsp.CertificateStatus.Good,
            // Never issued (or a failed attempt): unknown, never good (RFC 6960 §2.2).
            _ => new UnknownStatus(),
        };
    }

    private static byte[]? ReadNonce(OcspReq request)
    {
        var extension = request.RequestExtensions?.GetExtension(OcspObjectIdentifiers.PkixOcspNonce);
        if (extension is null)
        {
            return null;
        }

        // RFC 8954 §2.1: the extension value is an OCTET STRING holding the nonce.
        var value = extension.Value.GetOctets();
        try
        {
            return Asn1OctetString.GetInstance(Asn1Object.FromByteArray(value)).GetOctets();
        }
        catch (Exception ex) when (ex is IOException or ArgumentException)
        {
            // Some clients put the raw nonce in the extension value; accept it as is.
            return value;
        }
    }

    private async Task<IssuerHashes> GetIssuerAsync(CancellationToken cancellationToken)
    {
        if (_issuer is { } issuer)
        {
            return issuer;
        }

        await _issuerLock.WaitAsync(cancellationToken);
        try
        {
            var record = await _authorities.FindActiveAsync(_options.IssuingAuthority, cancellationToken)
                ?? throw new CaException(CaErrorKind.InvalidState, $"The issuing authority '{_options.IssuingAuthority}' has no active certificate.");
            _issuer = new IssuerHashes(new X509CertificateParser().ReadCertificate(record.CertificateDer));
            return _issuer;
        }
        finally
        {
            _issuerLock.Release();
        }
    }

    /// <summary>
    /// Revocations made by other processes or nodes (the CLI, another web node) reach this cache through the
    /// database: at most once a second, serials revoked (or whose reason was raised) since the last look drop their
    /// pre-signed responses.
    /// </summary>
    private async Task PollRevocationsAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now.UtcTicks < Interlocked.Read(ref _nextPollTicks) || !await _pollLock.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            Interlocked.Exchange(ref _nextPollTicks, (now + RevocationPollInterval).UtcTicks);
            // Overlap the window a little: a revocation committed while the last poll ran is not missed.
            var since = _revokedWatermark - RevocationPollInterval;
            IReadOnlyList<(string Serial, DateTimeOffset ChangedAt)> changed;
            try
            {
                changed = await _ledger.RevokedSinceAsync(since, cancellationToken);
            }
            catch (Exception ex) when (DatabaseFailure.IsUnavailable(ex))
            {
                // No revocation is recorded while the database is down; the next poll looks again from the same mark,
                // less often, and meanwhile cached answers are served without waiting for it.
                Interlocked.Exchange(ref _nextPollTicks, (now + OutagePollInterval).UtcTicks);
                DatabaseDown(ex);
                return;
            }

            if (Interlocked.Exchange(ref _databaseDown, 0) == 1)
            {
                _logger.LogInformation("OCSP: the issuance database answers again");
            }

            foreach (var (serial, changedAt) in changed)
            {
                // The overlap finds the newest changes again on the next look; act on each one once (a reason raised
                // later is a change of its own).
                if (!_seen.TryGetValue(serial, out var seenAt) || seenAt != changedAt)
                {
                    _seen[serial] = changedAt;
                    Forget(serial);
                }

                _revokedWatermark = changedAt > _revokedWatermark ? changedAt : _revokedWatermark;
            }

            foreach (var old in _seen.Where(kv => kv.Value < since).Select(kv => kv.Key).ToList())
            {
                _seen.Remove(old);
            }
        }
        finally
        {
            _pollLock.Release();
        }
    }

    /// <summary>Starts a due poll without waiting for it; its failure is logged, never thrown at a request.</summary>
    private void PollInBackground()
    {
        if (_time.GetUtcNow().UtcTicks < Interlocked.Read(ref _nextPollTicks))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await PollRevocationsAsync(CancellationToken.None);
            }
#pragma warning disable CA1031 // Nobody awaits this poll: whatever it meets is logged, and the next one tries again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _logger.LogWarning(ex, "OCSP: the revocation poll failed");
            }
        });
    }

    /// <summary>Logs the database's outage once, not at every request or poll while it lasts.</summary>
    private void DatabaseDown(Exception ex)
    {
        if (Interlocked.Exchange(ref _databaseDown, 1) == 0)
        {
            _logger.LogError("OCSP: the issuance database does not answer ({Reason}); cached answers are served and others are told tryLater until it does", ex.GetBaseException().Message);
        }
    }

    private void OnRevoked(CertificateRecord certificate) => Forget(certificate.SerialHex);

    private void Forget(string serialHex)
    {
        if (_responder.Forget(serialHex))
        {
            // The responder's own certificate was revoked: nothing it pre-signed is served any more.
            _cache.Clear();
        }

        Interlocked.Increment(ref _revocationEpoch);
        foreach (var algorithm in IssuerHashes.Algorithms)
        {
            _cache.TryRemove($"{algorithm}/{serialHex}", out _);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _revocations.Revoked -= OnRevoked;
        _issuerLock.Dispose();
        _pollLock.Dispose();
    }

    /// <summary>Compares request bytes by content.</summary>
    private sealed class RequestBytesComparer : IEqualityComparer<byte[]>
    {
        public static readonly RequestBytesComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }

    /// <summary>The issuing CA's name and key hashes for each CertID hash algorithm MiniCa accepts.</summary>
    private sealed class IssuerHashes
    {
        private readonly Dictionary<string, (byte[] Name, byte[] Key)> _hashes;

        /// <summary>The CertID hash algorithms accepted: SHA-1 (RFC 5019 §2.1.1) and SHA-256.</summary>
        public static readonly string[] Algorithms = ["1.3.14.3.2.26", "2.16.840.1.101.3.4.2.1"];

        public IssuerHashes(X509Certificate issuer)
        {
            var name = issuer.SubjectDN.GetEncoded();
            var key = issuer.SubjectPublicKeyInfo.PublicKey.GetBytes();
            // RFC 6960 §4.1.1: hashes of the issuer's DN and of its public key BIT STRING value. SHA-1 names the
            // issuer here, it protects nothing; RFC 5019 §2.1.1 requires responders to accept it.
#pragma warning disable CA5350
            _hashes = new Dictionary<string, (byte[], byte[])>(StringComparer.Ordinal)
            {
                ["1.3.14.3.2.26"] = (SHA1.HashData(name), SHA1.HashData(key)),
                ["2.16.840.1.101.3.4.2.1"] = (SHA256.HashData(name), SHA256.HashData(key)),
            };
#pragma warning restore CA5350
        }

        public bool Matches(CertificateID id) =>
            _hashes.TryGetValue(id.HashAlgOid, out var hashes)
            && hashes.Name.AsSpan().SequenceEqual(id.GetIssuerNameHash())
            && hashes.Key.AsSpan().SequenceEqual(id.GetIssuerKeyHash());
    }
}
