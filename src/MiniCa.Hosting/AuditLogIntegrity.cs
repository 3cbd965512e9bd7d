using System.Globalization;
using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Core.Signing;
using MiniCa.Data;
using MiniCa.Data.Queries;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Hosting;

/// <summary>
/// Signs the audit chain's anchors with the CA's audit key in the HSM and stores them in the audit log
/// (<see cref="SignedAuditAnchor"/>), and checks the stored log against them and against anchors kept elsewhere.
/// The CLI (<c>minica audit verify</c>, <c>minica audit sign</c>), the portal's panel and the web host's anchor log
/// all come here.
/// </summary>
public sealed class AuditLogIntegrity(IDbContextFactory<MiniCaDbContext> contexts, IKeyManager keys, IAuditLog audit, CaOptions options, TimeProvider time)
{
    /// <summary>The audit key's logical name in the HSM; the only key a signed anchor is accepted from.</summary>
    public const string KeyName = "audit";

    private readonly PortalQueries _queries = new(contexts);

    /// <summary>
    /// Signs <paramref name="head"/> (a settled head of the chain) and appends it to the audit log, unless nothing but
    /// signed anchors was written since the newest signed anchor (a log at rest gets no new anchor every pass). The
    /// audit key is generated in the HSM on first use (<c>Audit:KeyAlgorithm</c>).
    /// </summary>
    /// <returns>The anchor signed, or <see langword="null"/> when there was nothing new to sign.</returns>
    public async Task<SignedAuditAnchor?> SignAsync(AuditAnchor head, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(head);
        // One that claims an event at or after its own is no anchor (the check says so): it must not stop the signing.
        var newest = (await _queries.SignedAnchorEventsAsync(cancellationToken))
            .Select(row => (row.Id, Anchor: SignedAuditAnchor.Parse(row.Details, out _)))
            .LastOrDefault(r => r.Anchor is not null && r.Anchor.Anchor.EventId < r.Id).Anchor;
        if (newest is not null && newest.Anchor.EventId >= head.EventId)
        {
            return null;
        }

        if (!await _queries.HasEventsToAnchorAsync(newest?.Anchor.EventId ?? 0, head.EventId, cancellationToken))
        {
            return null;
        }

        var signed = SignedAuditAnchor.Sign(head, AuditKey(), time.GetUtcNow());
        await audit.RecordAsync(new AuditEntry(SignedAuditAnchor.Actor, SignedAuditAnchor.Action, $"audit:{head.EventId.ToString(CultureInfo.InvariantCulture)}", signed.ToString()), cancellationToken);
        return signed;
    }

    /// <summary>
    /// The audit key's public half, for auditors who check signed anchors apart from the CA's HSM
    /// (<c>minica audit key</c>, then <c>minica audit verify --audit-key</c> or OpenSSL).
    /// </summary>
    /// <exception cref="CaException">There is no audit key yet (<see cref="CaErrorKind.NotFound"/>).</exception>
    public SubjectPublicKeyInfo PublicKey() => keys.KeyExists(KeyName)
        ? keys.GetSigner(KeyName).PublicKeyInfo
        : throw new CaException(CaErrorKind.NotFound, $"The HSM holds no audit key '{KeyName}' yet: the web host makes it when it signs its first anchor, and so does `minica audit sign`.");

    /// <summary>
    /// Runs the chain over the whole stored log and checks it against <paramref name="given"/> (anchors kept outside
    /// the CA) and against every signed anchor stored in it. A signed anchor whose details are not one, whose key is
    /// not the audit key, or whose signature does not verify, fails as the log not matching it would.
    /// </summary>
    /// <param name="given">Anchors kept outside the CA.</param>
    /// <param name="settledBefore">The newest time the head's event may have.</param>
    /// <param name="auditKey">The audit key's public half to check signatures with; <see langword="null"/>: the HSM's.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    public async Task<AuditLogCheck> CheckAsync(IReadOnlyCollection<AuditAnchor> given, DateTimeOffset settledBefore, SubjectPublicKeyInfo? auditKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(given);
        var checks = new List<(long EventId, SignedAuditAnchor? Anchor, string? Problem)>();
        var whose = auditKey is null ? "HSM's" : "given";
        string? unreachable = null;
        AuditAnchorVerifier? verifierMade = null;
        var looked = false;
        AuditAnchorVerifier? AuditKey()
        {
            if (!looked)
            {
                looked = true;
                try
                {
                    verifierMade = new AuditAnchorVerifier(auditKey ?? PublicKey());
                }
                catch (CaException e) when (e.Kind == CaErrorKind.NotFound)
                {
                    // No audit key yet: each signed anchor says so.
                }
                catch (CaException e)
                {
                    // The HSM away: each signed anchor says its signature was not checked; the chain is still run.
                    unreachable = e.Message;
                }
            }

            return verifierMade;
        }

        try
        {
            foreach (var row in await _queries.SignedAnchorEventsAsync(cancellationToken))
            {
                var signed = SignedAuditAnchor.Parse(row.Details, out var problem);
                if (signed is not null)
                {
                    var verifier = signed.KeyName == KeyName ? AuditKey() : null;
                    problem = signed.Anchor.EventId >= row.Id ? $"it anchors event {signed.Anchor.EventId}, which is not before it"
                        : signed.KeyName != KeyName ? $"it names key '{signed.KeyName}', not the audit key '{KeyName}'"
                        : verifier is null && unreachable is not null ? $"its signature could not be checked: {unreachable.TrimEnd('.')}"
                        : verifier is null ? $"the HSM holds no key '{KeyName}' to check its signature with"
                        : signed.KeySha256 != verifier.KeySha256 ? $"it was signed with a key of SHA-256 {signed.KeySha256}, not the {whose} key '{KeyName}' ({verifier.KeySha256})"
                        : !verifier.Verifies(signed) ? $"its signature does not verify under the {whose} key '{KeyName}': it was changed, or not signed with that key"
                        : null;
                }
                else
                {
                    problem = $"its details are not a signed anchor ({problem})";
                }

                checks.Add((row.Id, problem is null ? signed : null, problem));
            }
        }
        finally
        {
            verifierMade?.Dispose();
        }

        var verified = checks.Where(c => c.Anchor is not null).Select(c => c.Anchor!.Anchor).ToList();
        var chain = await _queries.CheckAuditChainAsync([.. given, .. verified], settledBefore, cancellationToken: cancellationToken);
        var outcomes = chain.Anchors.GroupBy(c => c.Anchor).ToDictionary(g => g.Key, g => g.First());
        var signedChecks = checks.Select(c => c.Anchor is { } a
            ? new SignedAnchorCheck(c.EventId, a, outcomes[a.Anchor].Holds, outcomes[a.Anchor].Problem)
            : new SignedAnchorCheck(c.EventId, null, false, c.Problem)).ToList();
        return new AuditLogCheck(chain, given.Select(a => outcomes[a]).ToList(), signedChecks);
    }

    /// <summary>The audit key, generated in the HSM when there is none (another process may have just made it).</summary>
    private IKeySigner AuditKey()
    {
        if (keys.KeyExists(KeyName))
        {
            return keys.GetSigner(KeyName);
        }

        try
        {
            return keys.GenerateKey(KeyName, KeyAlgorithm.Parse(options.Audit.KeyAlgorithm));
        }
        catch (CaException e) when (e.Kind == CaErrorKind.AlreadyExists)
        {
            return keys.GetSigner(KeyName);
        }
    }
}

/// <summary>What <see cref="AuditLogIntegrity.CheckAsync"/> found.</summary>
/// <param name="Chain">The chain's pass over the log, with every anchor checked.</param>
/// <param name="GivenAnchors">Each anchor given, in the order given.</param>
/// <param name="SignedAnchors">Each event that holds a signed anchor, oldest first.</param>
public sealed record AuditLogCheck(AuditChainReport Chain, IReadOnlyList<AuditAnchorCheck> GivenAnchors, IReadOnlyList<SignedAnchorCheck> SignedAnchors)
{
    /// <summary>True when every anchor given and every signed anchor holds.</summary>
    public bool Intact => GivenAnchors.All(c => c.Holds) && SignedAnchors.All(c => c.Holds);

    /// <summary>The newest signed anchor that holds, if any.</summary>
    public SignedAnchorCheck? NewestSigned => SignedAnchors.LastOrDefault(c => c.Holds);
}

/// <summary>One stored signed anchor's outcome.</summary>
/// <param name="EventId">The audit event that holds it.</param>
/// <param name="Anchor">The signed anchor; <see langword="null"/> when its details are not one or its signature failed.</param>
/// <param name="Holds">Its signature verifies and the log still hashes to it.</param>
/// <param name="Problem">Why not.</param>
public sealed record SignedAnchorCheck(long EventId, SignedAuditAnchor? Anchor, bool Holds, string? Problem);
