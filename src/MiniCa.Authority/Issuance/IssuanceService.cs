using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Identifiers;
using MiniCa.Core.Issuance;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Core.Linting;
using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.Core.Serials;
using MiniCa.Core.Signing;
using MiniCa.Core.Telemetry;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;

namespace MiniCa.Authority.Issuance;

/// <summary>
/// The one issuance pipeline every door uses (ARCHITECTURE.md §2): parse and verify the CSR, apply the profile,
/// stop for approval when the profile says so, reserve a serial, build the TBS certificate, sign it with a
/// throw-away key and lint it, record it, sign the same bytes in the HSM, check them, commit. Every submission
/// leaves a record and an audit event; no certificate is signed without its row.
/// </summary>
public sealed class IssuanceService(
    ProfileCatalog profiles,
    BlockedKeyLists blockedKeys,
    IAuthorityReader authorities,
    IKeyManager keys,
    IIssuanceLedger ledger,
    IIssuanceReader reader,
    ISerialNumberGenerator serials,
    CertificateLinter linter,
    TimeProvider time,
    CaOptions options,
    ILogger<IssuanceService> logger) : IDisposable
{
    /// <summary>A serial collision is astronomically unlikely; a few retries cover it without a loop that never ends.</summary>
    private const int SerialAttempts = 3;

    private readonly SemaphoreSlim _issuerLock = new(1, 1);
    private readonly SignatureSlots _signatureSlots = new(options.Hsm.SignatureConcurrency);
    private readonly ThrowAwaySigner _throwAway = new();
    private readonly Uri _baseUrl = options.PublicBaseUri;
    private IssuerContext? _issuer;

    /// <summary>Submits a CSR for a profile and carries it as far as the profile allows.</summary>
    public async Task<IssuanceOutcome> SubmitAsync(IssuanceSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var started = time.GetTimestamp();
        var outcome = await SubmitCoreAsync(submission, cancellationToken);
        // A name that is no profile is counted as "unknown": a tag per name asked for would let anyone add series to /metrics.
        Count(outcome, submission.Source, profiles.Contains(submission.Profile) ? submission.Profile : "unknown", started);
        return outcome;
    }

    private static void Count(IssuanceOutcome outcome, string source, string profile, long started)
    {
        var tags = new TagList { { "outcome", outcome.Status.ToString().ToLowerInvariant() }, { "source", source }, { "profile", profile } };
        MiniCaMetrics.Requests.Add(1, tags);
        if (outcome.Status == RequestStatus.Issued)
        {
            MiniCaMetrics.IssuanceDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new TagList { { "profile", profile } });
        }
    }

    private async Task<IssuanceOutcome> SubmitCoreAsync(IssuanceSubmission submission, CancellationToken cancellationToken)
    {
        var actor = submission.Requester;
        CertificateProfile? profile = null;
        var problems = new List<string>();
        try
        {
            profile = profiles.Get(submission.Profile);
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.NotFound)
        {
            problems.Add(ex.Message);
        }

        var parsed = CsrParser.Parse(submission.Csr, blockedKeys);
        problems.AddRange(parsed.Problems);
        PolicyDecision? decision = null;
        if (profile is not null && parsed.Csr is not null && parsed.Problems.Count == 0)
        {
            decision = ProfilePolicy.Evaluate(profile, parsed.Csr);
            problems.AddRange(decision.Problems);
            if (decision.Problems.Count == 0)
            {
                // Names the issuing CA's certificate does not let it certify: refused now with the reason, rather
                // than failing the lint that would refuse them before signing.
                problems.AddRange((await NameConstraintViolationsAsync(decision.Identifiers, cancellationToken)).OfType<string>());
            }

            if (submission.ValidityDays is { } days && (days < 1 || days > profile.Validity.MaxDays))
            {
                problems.Add($"a validity of {days} days was asked for; profile '{profile.Name}' allows 1..{profile.Validity.MaxDays}");
            }
        }

        // A key reported compromised is refused (BR §6.1.1.3 (4)). On the automatic path the ledger checks it where it
        // records the certificate; a request that stops here is checked now, so that its reasons are complete.
        if (parsed.Csr is not null && (problems.Count > 0 || profile?.Approval.IsManual == true)
            && await reader.FindBlockedKeyAsync(PublicKeyFingerprint.Sha256(parsed.Csr.PublicKey), cancellationToken) is { } blocked)
        {
            problems.Add(blocked.Problem);
        }

        // Reasons may quote the request's own text (a name that is no DNS name): recorded and logged, escaped.
        problems = problems.ConvertAll(ControlCharacters.Escape);
        var draft = new RequestDraft
        {
            Profile = ControlCharacters.Escape(submission.Profile.Length <= 64 ? submission.Profile : submission.Profile[..64]),
            Requester = actor,
            Source = submission.Source,
            // Keep the CSR when it was one; raw garbage is not stored, only the fact that it arrived.
            CsrDer = parsed.Csr?.Der,
            Subject = parsed.Csr?.SubjectText ?? string.Empty,
            Identifiers = (decision?.Identifiers ?? parsed.Csr?.Identifiers ?? []).Select(i => ControlCharacters.Escape(i.ToString())).ToList(),
            KeyDescription = parsed.Csr?.KeyDescription ?? string.Empty,
            RequiredApprovals = profile?.Approval.IsManual == true ? profile.Approval.Approvers : 0,
        };

        if (problems.Count > 0)
        {
            var id = await ledger.RecordRequestAsync(draft, RequestStatus.Rejected, problems,
                new AuditEntry(actor, "request.rejected", string.Empty, $"profile {draft.Profile} via {submission.Source}: {string.Join("; ", problems)}"),
                cancellationToken);
            logger.LogInformation("Request {Request} rejected: {Problems}", id, string.Join("; ", problems));
            return new IssuanceOutcome { RequestId = id, Status = RequestStatus.Rejected, Problems = problems };
        }

        if (profile!.Approval.IsManual)
        {
            var id = await ledger.RecordRequestAsync(draft, RequestStatus.Pending, [],
                new AuditEntry(actor, "request.pending", string.Empty, $"profile {profile.Name} via {submission.Source}; {profile.Approval.Approvers} approval(s) needed"),
                cancellationToken);
            return new IssuanceOutcome { RequestId = id, Status = RequestStatus.Pending, ApprovalsNeeded = profile.Approval.Approvers };
        }

        return await IssueAsync(draft, null, profile, parsed.Csr!, decision!, submission.ValidityDays, actor, cancellationToken);
    }

    /// <summary>
    /// Records an officer's decision on a pending request (never the requester's own, each officer once); when the
    /// last required approval arrives the request is issued through the same pipeline, under the profile as it is now.
    /// </summary>
    public async Task<IssuanceOutcome> DecideAsync(long requestId, string officer, bool approve, string comment, CancellationToken cancellationToken = default)
    {
        var status = await ledger.RecordDecisionAsync(requestId, officer, approve, comment,
            new AuditEntry(officer, approve ? "request.approved" : "request.rejected", $"request:{requestId}", comment), cancellationToken);
        var request = await reader.FindRequestAsync(requestId, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"Request {requestId} does not exist.");
        if (status != RequestStatus.Approved)
        {
            return new IssuanceOutcome
            {
                RequestId = requestId,
                Status = status,
                Problems = request.Problems,
                ApprovalsNeeded = Math.Max(0, request.RequiredApprovals - request.Approvals.Count),
            };
        }

        var profile = profiles.Get(request.Profile);
        var parsed = CsrParser.Parse(request.CsrDer ?? [], blockedKeys);
        var decision = parsed.Csr is null ? null : ProfilePolicy.Evaluate(profile, parsed.Csr);
        var problems = parsed.Problems.Concat(decision?.Problems ?? []).ToList();
        if (problems.Count > 0)
        {
            // The profile may have changed since the request arrived: it is checked again before signing.
            await ledger.RecordFailedAsync(requestId, null, string.Join("; ", problems),
                new AuditEntry(officer, "request.failed", $"request:{requestId}", string.Join("; ", problems)), cancellationToken);
            return new IssuanceOutcome { RequestId = requestId, Status = RequestStatus.Failed, Problems = problems };
        }

        var draft = new RequestDraft
        {
            Profile = request.Profile,
            Requester = request.Requester,
            Source = request.Source,
            CsrDer = request.CsrDer,
            Subject = request.Subject,
            Identifiers = decision!.Identifiers.Select(i => i.ToString()).ToList(),
        };
        var started = time.GetTimestamp();
        var issued = await IssueAsync(draft, requestId, profile, parsed.Csr!, decision, null, officer, cancellationToken);
        Count(issued, "approval", profile.Name, started);
        return issued;
    }

    private async Task<IssuanceOutcome> IssueAsync(
        RequestDraft draft,
        long? existingRequestId,
        CertificateProfile profile,
        ParsedCsr csr,
        PolicyDecision decision,
        int? validityDays,
        string actor,
        CancellationToken cancellationToken)
    {
        var issuer = await GetIssuerAsync(cancellationToken);
        // The ledger may hold a commit back for this issuance's writes while it computes them (group commit).
        using var issuing = ledger.BeginIssuance();
        var now = time.GetUtcNow();
        var publicKeySha256 = PublicKeyFingerprint.Sha256(csr.PublicKey);
        for (var attempt = 1; ; attempt++)
        {
            // Steps 3-4: serial, TBS certificate, throw-away signature, every lint.
            var serial = serials.NewSerial();
            var tbs = LeafCertificateBuilder.BuildTbs(new LeafCertificateRequest
            {
                Serial = serial,
                Profile = profile,
                PublicKey = csr.PublicKey,
                Identifiers = decision.Identifiers,
                CommonName = decision.CommonName,
                Issuer = issuer.Certificate,
                IssuerName = issuer.Name,
                SignatureAlgorithm = issuer.SignatureAlgorithm,
                Now = now,
                ValidityDays = validityDays,
                PublicBaseUrl = _baseUrl,
                DeltaCrls = options.Crl.DeltasEnabled,
            });
            var tbsDer = tbs.GetEncoded(Asn1Encodable.Der);
            var findings = linter.Run(new LintContext
            {
                Der = _throwAway.Certificate(tbs, tbsDer),
                IssuerCertificate = issuer.Certificate,
                Profile = profile,
                Now = now,
            });
            var errors = findings.Where(f => f.Severity == LintSeverity.Error).Select(f => f.ToString()).ToList();
            if (errors.Count > 0)
            {
                var lintAudit = new AuditEntry(actor, "request.lint_failed", $"request:{existingRequestId}", string.Join("; ", errors));
                long id;
                if (existingRequestId is { } existing)
                {
                    await ledger.RecordFailedAsync(existing, null, string.Join("; ", errors), lintAudit, cancellationToken);
                    id = existing;
                }
                else
                {
                    id = await ledger.RecordRequestAsync(draft, RequestStatus.Failed, errors, lintAudit, cancellationToken);
                }

                logger.LogWarning("Request {Request} failed lint: {Errors}", id, string.Join("; ", errors));
                return new IssuanceOutcome { RequestId = id, Status = RequestStatus.Failed, Problems = errors };
            }

            var serialHex = serial.ToString(16);
            var warnings = findings.Where(f => f.Severity == LintSeverity.Warning).ToList();
            var certificateDraft = new CertificateDraft
            {
                SerialHex = serialHex,
                IssuerName = issuer.Name,
                Subject = tbs.Subject.ToString(),
                Identifiers = draft.Identifiers,
                Profile = profile.Name,
                NotBefore = tbs.StartDate.ToDateTime(),
                NotAfter = tbs.EndDate.ToDateTime(),
                TbsDer = tbsDer,
                PublicKeySha256 = publicKeySha256,
            };

            // Step 5a: record the linted certificate (and its audit event) before the HSM sees it.
            long requestId;
            long certificateId;
            try
            {
                (requestId, certificateId) = await ledger.RecordSigningAsync(existingRequestId is null ? draft : null, existingRequestId, certificateDraft,
                    new AuditEntry(actor, "certificate.signing", string.Empty,
                        $"profile {profile.Name}; {string.Join(", ", draft.Identifiers)}" + (warnings.Count > 0 ? $"; warnings: {string.Join("; ", warnings)}" : string.Empty)),
                    cancellationToken);
            }
            catch (CaException ex) when (ex.Kind == CaErrorKind.AlreadyExists && attempt < SerialAttempts)
            {
                logger.LogWarning("Serial {Serial} was taken; drawing another", serialHex);
                continue;
            }
            catch (CaException ex) when (ex.Kind == CaErrorKind.PolicyViolation)
            {
                // The key is blocked (BR §6.1.1.3 (4)); that write recorded nothing, so the request is recorded now.
                return await RecordBlockedAsync(draft, existingRequestId, actor, ex.Message, cancellationToken);
            }
            catch (CaException ex) when (ex.Kind == CaErrorKind.StorageFailed)
            {
                // Nothing was recorded and nothing signed; the caller is told to try again later, the operator why.
                logger.LogError("A {Profile} certificate for {Identifiers}, asked by {Actor}, was not recorded, so not signed: {Reason}",
                    profile.Name, string.Join(", ", draft.Identifiers), actor, ex.Message);
                throw;
            }

            // Step 5b: sign the same bytes in the HSM, check, commit. The wait for a signature slot does not take the
            // cancellation token: the attempt is recorded, so it goes on to a signature or a recorded failure.
            byte[] certificateDer;
            var slot = await _signatureSlots.EnterAsync();
            try
            {
                var signature = issuer.Signer.Sign(issuer.SignatureAlgorithm, tbsDer);
                certificateDer = new X509CertificateStructure(tbs, tbs.Signature, new DerBitString(signature)).GetEncoded(Asn1Encodable.Der);
                issuer.EnsureSignedAsLinted(certificateDer, tbsDer, signature);
            }
            catch (Exception ex) when (ex is CaException or CryptographicException)
            {
                slot.Dispose();
                await RecordFailureQuietlyAsync(requestId, certificateId, actor, serialHex, ex.Message);
                throw;
            }
            finally
            {
                slot.Dispose();
            }

            try
            {
                await ledger.RecordIssuedAsync(requestId, certificateId, certificateDer,
                    new AuditEntry(actor, "certificate.issued", $"certificate:{serialHex}", $"request:{requestId}; profile {profile.Name}; {string.Join(", ", draft.Identifiers)}"),
                    cancellationToken);
            }
            catch (CaException ex)
            {
                // The signature exists; its row (status Signing, with the TBS) stays the record of it.
                logger.LogError("Certificate {Serial} was signed but could not be committed: {Reason}", serialHex, ex.Message);
                await RecordFailureQuietlyAsync(requestId, certificateId, actor, serialHex, ex.Message);
                throw;
            }

            return new IssuanceOutcome
            {
                RequestId = requestId,
                Status = RequestStatus.Issued,
                Certificate = certificateDer,
                SerialHex = serialHex,
                Warnings = warnings,
            };
        }
    }

    private async Task<IssuanceOutcome> RecordBlockedAsync(RequestDraft draft, long? existingRequestId, string actor, string problem, CancellationToken cancellationToken)
    {
        if (existingRequestId is { } existing)
        {
            // An approved request whose key was blocked while it waited: it fails, as when its profile changed.
            await ledger.RecordFailedAsync(existing, null, problem, new AuditEntry(actor, "request.failed", $"request:{existing}", problem), cancellationToken);
            return new IssuanceOutcome { RequestId = existing, Status = RequestStatus.Failed, Problems = [problem] };
        }

        var id = await ledger.RecordRequestAsync(draft, RequestStatus.Rejected, [problem],
            new AuditEntry(actor, "request.rejected", string.Empty, $"profile {draft.Profile} via {draft.Source}: {problem}"), cancellationToken);
        logger.LogInformation("Request {Request} rejected: {Problems}", id, problem);
        return new IssuanceOutcome { RequestId = id, Status = RequestStatus.Rejected, Problems = [problem] };
    }

    private async Task RecordFailureQuietlyAsync(long requestId, long certificateId, string actor, string serialHex, string reason)
    {
        try
        {
            await ledger.RecordFailedAsync(requestId, certificateId, reason,
                new AuditEntry(actor, "certificate.failed", $"certificate:{serialHex}", reason), CancellationToken.None);
        }
        catch (CaException ex)
        {
            // The database is what failed; the row written before signing already records the attempt.
            logger.LogError("Could not record the failure of certificate {Serial}: {Reason}", serialHex, ex.Message);
        }
    }

    /// <summary>
    /// For each of <paramref name="identifiers"/>, why the issuing CA's nameConstraints refuse it; <see langword="null"/>
    /// where they allow it, or where the CA has none (RFC 5280 §4.2.1.10).
    /// </summary>
    public async Task<IReadOnlyList<string?>> NameConstraintViolationsAsync(IReadOnlyList<Identifier> identifiers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        var constraints = (await GetIssuerAsync(cancellationToken)).Certificate.GetExtensionValue(X509Extensions.NameConstraints)?.GetOctets();
        return identifiers.Select(i => constraints is null ? null : AuthorityNameConstraints.Violation(constraints, LeafCertificateBuilder.ToGeneralName(i))).ToList();
    }

    /// <summary>
    /// The DER value of the issuing CA's nameConstraints, for a preview to check names as a submission does
    /// (<see cref="RequestPreview.Evaluate"/>); <see langword="null"/> when it has none.
    /// </summary>
    public async Task<byte[]?> IssuerNameConstraintsAsync(CancellationToken cancellationToken = default) =>
        (await GetIssuerAsync(cancellationToken)).Certificate.GetExtensionValue(X509Extensions.NameConstraints)?.GetOctets();

    private async Task<IssuerContext> GetIssuerAsync(CancellationToken cancellationToken)
    {
        if (_issuer is { } cached)
        {
            return cached;
        }

        await _issuerLock.WaitAsync(cancellationToken);
        try
        {
            if (_issuer is not null)
            {
                return _issuer;
            }

            var name = options.IssuingAuthority;
            var record = await authorities.FindActiveAsync(name, cancellationToken)
                ?? throw new CaException(CaErrorKind.InvalidState, $"The issuing authority '{name}' has no active certificate; run 'minica init'.");
            var certificate = new X509CertificateParser().ReadCertificate(record.CertificateDer);
            var signer = keys.GetSigner(name);
            var algorithm = SignatureAlgorithms.ForAuthority(options.Authorities[name], signer.Algorithm);
            if (!signer.PublicKeyInfo.Equals(certificate.SubjectPublicKeyInfo))
            {
                throw new CaException(CaErrorKind.InvalidState, $"The HSM key '{name}' does not match the public key of the '{name}' certificate.");
            }

            _issuer = new IssuerContext(name, certificate, signer, algorithm);
            return _issuer;
        }
        finally
        {
            _issuerLock.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _issuerLock.Dispose();
        _signatureSlots.Dispose();
        _throwAway.Dispose();
        _issuer?.Dispose();
    }
}
