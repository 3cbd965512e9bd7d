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
    /// <summary>The first audit key's logical name in the HSM; each rotation adds the next (<c>audit-2</c>, …, <see cref="AuditKeyRotation.KeyName"/>).</summary>
    public const string KeyName = AuditKeyRotation.FirstKeyName;

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
        var newest = await NewestSignedAsync(cancellationToken);
        if (newest is not null && newest.Anchor.EventId >= head.EventId)
        {
            return null;
        }

        if (!await _queries.HasEventsToAnchorAsync(newest?.Anchor.EventId ?? 0, head.EventId, cancellationToken))
        {
            return null;
        }

        var signed = SignedAuditAnchor.Sign(head, await CurrentKeyAsync(cancellationToken), time.GetUtcNow());
        await audit.RecordAsync(new AuditEntry(SignedAuditAnchor.Actor, SignedAuditAnchor.Action, $"audit:{head.EventId.ToString(CultureInfo.InvariantCulture)}", signed.ToString()), cancellationToken);
        return signed;
    }

    /// <summary>
    /// The newest stored signed anchor, read newest first a few at a time (not the whole history each pass). One that
    /// is not a signed anchor, or claims an event at or after its own, is no anchor (the check says so): it must not
    /// stop the signing.
    /// </summary>
    private async Task<SignedAuditAnchor?> NewestSignedAsync(CancellationToken cancellationToken)
    {
        const int Run = 16;
        var before = long.MaxValue;
        while (true)
        {
            var rows = await _queries.SignedAnchorEventsNewestFirstAsync(before, Run, cancellationToken);
            foreach (var row in rows)
            {
                if (SignedAuditAnchor.Parse(row.Details, out _) is { } anchor && anchor.Anchor.EventId < row.Id)
                {
                    return anchor;
                }
            }

            if (rows.Count < Run)
            {
                return null;
            }

            before = rows[^1].Id;
        }
    }

    /// <summary>
    /// The newest audit key's public half in the HSM, for auditors who check signed anchors apart from the CA's HSM
    /// (<c>minica audit key</c>, then <c>minica audit verify --audit-key</c> or OpenSSL).
    /// </summary>
    /// <exception cref="CaException">There is no audit key yet (<see cref="CaErrorKind.NotFound"/>).</exception>
    public SubjectPublicKeyInfo PublicKey() => PublicKeys()[^1].PublicKey;

    /// <summary>
    /// Every audit key in the HSM, oldest first. The one that signs is the last a recorded rotation brought in
    /// (<see cref="SigningKeyNameAsync"/>): the last in the HSM, unless a rotation made a key it could not record.
    /// </summary>
    /// <exception cref="CaException">There is no audit key yet (<see cref="CaErrorKind.NotFound"/>).</exception>
    public IReadOnlyList<AuditPublicKey> PublicKeys()
    {
        var names = KeyNames();
        return names.Count > 0
            ? names.Select(name => new AuditPublicKey(name, keys.GetSigner(name).PublicKeyInfo)).ToList()
            : throw new CaException(CaErrorKind.NotFound, $"The HSM holds no audit key '{KeyName}' yet: the web host makes it when it signs its first anchor, and so does `minica audit sign`.");
    }

    /// <summary>The audit keys' names in the HSM, oldest first: <c>audit</c>, then <c>audit-2</c>, … as far as they go.</summary>
    private List<string> KeyNames()
    {
        var names = new List<string>();
        while (keys.KeyExists(AuditKeyRotation.KeyName(names.Count + 1)))
        {
            names.Add(AuditKeyRotation.KeyName(names.Count + 1));
        }

        return names;
    }

    /// <summary>
    /// Replaces the audit key: generates the next one in the HSM (<c>Audit:KeyAlgorithm</c>) and records the rotation in
    /// the audit log. Anchors are signed with the new key from then on; the old key stays in the HSM, so the anchors
    /// it signed before the rotation still verify, and one it signs over the rotation's event (or later ones) fails.
    /// The new key comes after every audit key in the HSM: one made by a rotation that could not be recorded is
    /// skipped, never signs and is never reused.
    /// </summary>
    /// <param name="by">Who rotates it (<c>cli:USER</c>).</param>
    /// <param name="cancellationToken">Stops the recording.</param>
    /// <exception cref="CaException">There is no audit key yet (<see cref="CaErrorKind.NotFound"/>); another rotation
    /// made the same key, or replaced the same key, at the same moment (<see cref="CaErrorKind.AlreadyExists"/>); the
    /// key was made but its rotation not recorded (<see cref="CaErrorKind.StorageFailed"/>).</exception>
    public async Task<AuditKeyRotation> RotateAsync(string by, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(by);
        var names = KeyNames();
        if (names.Count == 0)
        {
            throw new CaException(CaErrorKind.NotFound, $"The HSM holds no audit key '{KeyName}' yet: there is nothing to rotate (the first anchor signed makes it).");
        }

        var from = await CurrentKeyAsync(cancellationToken);
        var next = AuditKeyRotation.KeyName(names.Count + 1);
        IKeySigner to;
        try
        {
            to = keys.GenerateKey(next, KeyAlgorithm.Parse(options.Audit.KeyAlgorithm));
        }
        catch (CaException e) when (e.Kind == CaErrorKind.AlreadyExists)
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"Another rotation made the audit key '{next}' at the same moment, so this one recorded nothing: `minica audit verify` shows the rotations recorded; rotate again if that one is not among them.", e);
        }

        var rotation = new AuditKeyRotation(from.KeyName, PublicKeyFingerprint.Sha256(from.PublicKeyInfo), to.KeyName, PublicKeyFingerprint.Sha256(to.PublicKeyInfo), by);
        try
        {
            await audit.RecordAuditKeyRotationAsync(new AuditEntry(SignedAuditAnchor.Actor, AuditKeyRotation.Action, $"audit-key:{to.KeyName}", rotation.ToString()), rotation.FromSha256, cancellationToken);
        }
        catch (CaException e) when (e.Kind == CaErrorKind.AlreadyExists)
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"Another rotation replaced the audit key '{from.KeyName}' at the same moment, so this one was not recorded: the key '{to.KeyName}' it made in the HSM never signs, and the next rotation skips it. `minica audit verify` shows the rotation recorded.", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CaException(CaErrorKind.StorageFailed, $"The audit key '{to.KeyName}' was made in the HSM, but its rotation could not be recorded in the audit log ({e.Message.TrimEnd('.')}): anchors are still signed with '{from.KeyName}', and the next rotation skips '{to.KeyName}'.", e);
        }

        return rotation;
    }

    /// <summary>
    /// Runs the chain over the whole stored log and checks it against <paramref name="given"/> (anchors kept outside
    /// the CA) and against every signed anchor stored in it. A signed anchor whose details are not one, whose key is
    /// not one of the audit keys, whose key had been replaced (<see cref="AuditKeyRotation"/>) before the events it covers,
    /// or whose signature does not verify, fails as the log not matching it would; so does a recorded rotation that is
    /// not one, or that names keys other than the audit keys.
    /// </summary>
    /// <param name="given">Anchors kept outside the CA.</param>
    /// <param name="settledBefore">The newest time the head's event may have.</param>
    /// <param name="auditKeys">The audit keys' public halves to check signatures with (<c>minica audit key</c> writes them all); <see langword="null"/>: the HSM's.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    public async Task<AuditLogCheck> CheckAsync(IReadOnlyCollection<AuditAnchor> given, DateTimeOffset settledBefore, IReadOnlyCollection<SubjectPublicKeyInfo>? auditKeys = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(given);
        var whose = auditKeys is null ? "HSM's" : "given";
        var (verifiers, first, unreachable) = Verifiers(auditKeys);
        try
        {
            // Each rotation retires its old key: an anchor it signed may cover the log only up to before the rotation's
            // event. Judged by what the anchor covers, not where it is stored, so a host that signed with the old key
            // just as another process rotated it is not taken for a forgery; and an old-key anchor over earlier events
            // adds nothing, as the new key's anchors cover those events too. Each rotation replaces the key the one
            // before brought in, by a key never used before; only the keys so brought in (and the first) may sign.
            var rotations = new List<AuditKeyRotationCheck>();
            var retired = new Dictionary<string, (long EventId, AuditKeyRotation Rotation)>(StringComparer.Ordinal);
            var sequence = new RotationSequence();
            foreach (var row in await _queries.AuditKeyRotationEventsAsync(cancellationToken))
            {
                var rotation = AuditKeyRotation.Parse(row.Details, out var problem);
                problem = rotation is null ? $"its details are not a key rotation ({problem})"
                    : sequence.Take(row.Id, rotation)
                      ?? (verifiers is null ? null
                        : !verifiers.ContainsKey(rotation.FromSha256) ? $"the key it replaces, '{rotation.From}' (SHA-256 {rotation.FromSha256}), is not one of the {whose} audit keys"
                        : !verifiers.ContainsKey(rotation.ToSha256) ? $"the key it names, '{rotation.To}' (SHA-256 {rotation.ToSha256}), is not one of the {whose} audit keys"
                        : null);
                if (rotation is not null && sequence.Latest?.EventId == row.Id)
                {
                    retired.TryAdd(rotation.FromSha256, (row.Id, rotation));
                }

                rotations.Add(new AuditKeyRotationCheck(row.Id, rotation, problem is null, problem));
            }

            var brought = sequence.Brought;
            if (brought.Count == 0 && first is not null)
            {
                brought.Add(first);
            }

            var checks = new List<(long EventId, SignedAuditAnchor? Anchor, string? Problem)>();
            foreach (var row in await _queries.SignedAnchorEventsAsync(cancellationToken))
            {
                var signed = SignedAuditAnchor.Parse(row.Details, out var problem);
                if (signed is null)
                {
                    checks.Add((row.Id, null, $"its details are not a signed anchor ({problem})"));
                    continue;
                }

                var verifier = verifiers?.GetValueOrDefault(signed.KeySha256);
                problem = signed.Anchor.EventId >= row.Id ? $"it anchors event {signed.Anchor.EventId}, which is not before it"
                    : !AuditKeyRotation.IsKeyName(signed.KeyName) ? $"it names key '{signed.KeyName}', not an audit key ('{KeyName}', '{AuditKeyRotation.KeyName(2)}', …)"
                    : verifiers is null ? $"its signature could not be checked: {unreachable!.TrimEnd('.')}"
                    : verifiers.Count == 0 ? $"the HSM holds no key '{KeyName}' to check its signature with"
                    : verifier is null ? $"it was signed with a key of SHA-256 {signed.KeySha256}, not {Describe(verifiers, whose)}"
                    : brought.Count > 0 && !brought.Contains(signed.KeySha256) ? $"it was signed with the key '{signed.KeyName}' (SHA-256 {signed.KeySha256}), which no recorded rotation brought in"
                    : retired.TryGetValue(signed.KeySha256, out var replaced) && signed.Anchor.EventId >= replaced.EventId
                        ? $"it was signed with the audit key '{signed.KeyName}' over the log up to event {signed.Anchor.EventId.ToString(CultureInfo.InvariantCulture)}, but event {replaced.EventId.ToString(CultureInfo.InvariantCulture)} had replaced that key by '{replaced.Rotation.To}'"
                    : !verifier.Verifies(signed) ? $"its signature does not verify under the {whose} key '{signed.KeyName}': it was changed, or not signed with that key"
                    : null;
                checks.Add((row.Id, problem is null ? signed : null, problem));
            }

            var verified = checks.Where(c => c.Anchor is not null).Select(c => c.Anchor!.Anchor).ToList();
            var chain = await _queries.CheckAuditChainAsync([.. given, .. verified], settledBefore, cancellationToken: cancellationToken);
            var outcomes = chain.Anchors.GroupBy(c => c.Anchor).ToDictionary(g => g.Key, g => g.First());
            var signedChecks = checks.Select(c => c.Anchor is { } a
                ? new SignedAnchorCheck(c.EventId, a, outcomes[a.Anchor].Holds, outcomes[a.Anchor].Problem)
                : new SignedAnchorCheck(c.EventId, null, false, c.Problem)).ToList();
            return new AuditLogCheck(chain, given.Select(a => outcomes[a]).ToList(), signedChecks) { KeyRotations = rotations };
        }
        finally
        {
            foreach (var verifier in verifiers?.Values ?? Enumerable.Empty<AuditAnchorVerifier>())
            {
                verifier.Dispose();
            }
        }
    }

    /// <summary>
    /// A verifier per audit key, by its SHA-256: the given keys, or the HSM's; none when the HSM has none yet;
    /// <see langword="null"/> with the reason when the HSM could not be asked (each signed anchor then says so). With
    /// the HSM's keys, the first one's SHA-256 too (the given keys have no names to tell it by).
    /// </summary>
    private (Dictionary<string, AuditAnchorVerifier>? Verifiers, string? First, string? Unreachable) Verifiers(IReadOnlyCollection<SubjectPublicKeyInfo>? auditKeys)
    {
        List<SubjectPublicKeyInfo> publicKeys;
        try
        {
            publicKeys = auditKeys?.ToList() ?? PublicKeys().Select(k => k.PublicKey).ToList();
        }
        catch (CaException e) when (e.Kind == CaErrorKind.NotFound)
        {
            return (new Dictionary<string, AuditAnchorVerifier>(StringComparer.Ordinal), null, null);
        }
        catch (CaException e)
        {
            return (null, null, e.Message);
        }

        var verifiers = new Dictionary<string, AuditAnchorVerifier>(StringComparer.Ordinal);
        try
        {
            foreach (var key in publicKeys)
            {
                var verifier = new AuditAnchorVerifier(key);
                if (!verifiers.TryAdd(verifier.KeySha256, verifier))
                {
                    verifier.Dispose();
                }
            }
        }
        catch
        {
            foreach (var made in verifiers.Values)
            {
                made.Dispose();
            }

            throw;
        }

        return (verifiers, auditKeys is null && publicKeys.Count > 0 ? PublicKeyFingerprint.Sha256(publicKeys[0]) : null, null);
    }

    /// <summary>The name of the audit key that signs anchors now (<c>audit</c> until a recorded rotation brings in another).</summary>
    /// <param name="cancellationToken">Stops the reading of the log.</param>
    public async Task<string> SigningKeyNameAsync(CancellationToken cancellationToken = default) =>
        (await NewestRotationAsync(cancellationToken))?.To ?? KeyName;

    /// <summary>
    /// The last of the recorded rotations, followed one after the other as the check does: a rotation that does not
    /// replace the key then in use is skipped. <see langword="null"/> before the first.
    /// </summary>
    private async Task<AuditKeyRotation?> NewestRotationAsync(CancellationToken cancellationToken) =>
        (await RotationsAsync(cancellationToken)).Latest?.Rotation;

    /// <summary>
    /// The audit keys in the HSM (by name) that no recorded rotation brought in, the first key apart: made by a
    /// rotation whose record failed, they never sign.
    /// </summary>
    /// <param name="cancellationToken">Stops the reading of the log.</param>
    public async Task<IReadOnlySet<string>> UnrecordedKeyNamesAsync(CancellationToken cancellationToken = default)
    {
        var brought = (await RotationsAsync(cancellationToken)).Brought;
        return PublicKeys()
            .Where(k => k.Name != KeyName && !brought.Contains(PublicKeyFingerprint.Sha256(k.PublicKey)))
            .Select(k => k.Name)
            .ToHashSet(StringComparer.Ordinal);
    }

    private async Task<RotationSequence> RotationsAsync(CancellationToken cancellationToken)
    {
        var sequence = new RotationSequence();
        foreach (var row in await _queries.AuditKeyRotationEventsAsync(cancellationToken))
        {
            if (AuditKeyRotation.Parse(row.Details, out _) is { } rotation)
            {
                sequence.Take(row.Id, rotation);
            }
        }

        return sequence;
    }

    /// <summary>
    /// The recorded rotations followed one after the other, as the check and the signing both take them: each must
    /// replace the key the one before brought in, by a key never used before; one that does not is not taken.
    /// </summary>
    private sealed class RotationSequence
    {
        /// <summary>The last rotation taken.</summary>
        public (long EventId, AuditKeyRotation Rotation)? Latest { get; private set; }

        /// <summary>The SHA-256 of each key the rotations taken brought in, and of the first one's replaced key.</summary>
        public HashSet<string> Brought { get; } = new(StringComparer.Ordinal);

        /// <summary>Takes <paramref name="rotation"/>, recorded in event <paramref name="eventId"/>, when it follows; otherwise says why it does not.</summary>
        public string? Take(long eventId, AuditKeyRotation rotation)
        {
            if (Latest is { } before && rotation.FromSha256 != before.Rotation.ToSha256)
            {
                return $"it replaces '{rotation.From}' (SHA-256 {rotation.FromSha256}), but the audit key then was '{before.Rotation.To}' (SHA-256 {before.Rotation.ToSha256}), brought in by event {before.EventId.ToString(CultureInfo.InvariantCulture)}";
            }

            if (rotation.ToSha256 == rotation.FromSha256 || Brought.Contains(rotation.ToSha256))
            {
                return $"the key it brings in, '{rotation.To}' (SHA-256 {rotation.ToSha256}), had been an audit key before";
            }

            Brought.Add(rotation.FromSha256);
            Brought.Add(rotation.ToSha256);
            Latest = (eventId, rotation);
            return null;
        }
    }

    private static string Describe(Dictionary<string, AuditAnchorVerifier> verifiers, string whose) => verifiers.Count == 1
        ? $"the {whose} audit key ({verifiers.Keys.Single()})"
        : $"one of the {whose} audit keys ({string.Join(", ", verifiers.Keys)})";

    /// <summary>
    /// The audit key anchors are signed with: the one the recorded rotations brought in last, or the first before any
    /// (generated in the HSM when there is none; another process may have just made it). A key in the HSM that no
    /// recorded rotation brought in never signs.
    /// </summary>
    /// <exception cref="CaException">The newest rotation names a key the HSM does not hold, or not as recorded.</exception>
    private async Task<IKeySigner> CurrentKeyAsync(CancellationToken cancellationToken)
    {
        if (await NewestRotationAsync(cancellationToken) is { } newest)
        {
            var key = keys.GetSigner(newest.To);
            var sha256 = PublicKeyFingerprint.Sha256(key.PublicKeyInfo);
            return sha256 == newest.ToSha256 ? key
                : throw new CaException(CaErrorKind.InvalidState, $"The audit log's newest key rotation names '{newest.To}' (SHA-256 {newest.ToSha256}) as the audit key, but the HSM's '{newest.To}' is SHA-256 {sha256}: nothing is signed with it. `minica audit verify` shows the rotations.");
        }

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
    /// <summary>Each recorded rotation of the audit key, oldest first.</summary>
    public IReadOnlyList<AuditKeyRotationCheck> KeyRotations { get; init; } = [];

    /// <summary>True when every anchor given and every signed anchor holds, and every recorded rotation is one.</summary>
    public bool Intact => GivenAnchors.All(c => c.Holds) && SignedAnchors.All(c => c.Holds) && KeyRotations.All(c => c.Holds);

    /// <summary>How many audit keys signed the signed anchors that hold (more than one after a rotation).</summary>
    public int SigningKeys => SignedAnchors.Where(c => c.Holds).Select(c => c.Anchor!.KeySha256).Distinct(StringComparer.Ordinal).Count();

    /// <summary>The newest signed anchor that holds, if any.</summary>
    public SignedAnchorCheck? NewestSigned => SignedAnchors.LastOrDefault(c => c.Holds);
}

/// <summary>One stored signed anchor's outcome.</summary>
/// <param name="EventId">The audit event that holds it.</param>
/// <param name="Anchor">The signed anchor; <see langword="null"/> when its details are not one or its signature failed.</param>
/// <param name="Holds">Its signature verifies and the log still hashes to it.</param>
/// <param name="Problem">Why not.</param>
public sealed record SignedAnchorCheck(long EventId, SignedAuditAnchor? Anchor, bool Holds, string? Problem);

/// <summary>One recorded rotation of the audit key.</summary>
/// <param name="EventId">The audit event that records it.</param>
/// <param name="Rotation">The rotation; <see langword="null"/> when the details are not one.</param>
/// <param name="Holds">Its details are a rotation between two of the audit keys.</param>
/// <param name="Problem">Why not.</param>
public sealed record AuditKeyRotationCheck(long EventId, AuditKeyRotation? Rotation, bool Holds, string? Problem);

/// <summary>One audit key in the HSM.</summary>
/// <param name="Name">Its logical name (<c>audit</c>, <c>audit-2</c>, …).</param>
/// <param name="PublicKey">Its public half.</param>
public sealed record AuditPublicKey(string Name, SubjectPublicKeyInfo PublicKey);
