using MiniCa.Authority.Quorum;
using MiniCa.Core.Authorities;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Core.Quorum;
using MiniCa.Hsm;

namespace MiniCa.Hosting;

/// <summary>What a cluster command did: waited for a quorum, or ran (with each key's result).</summary>
/// <param name="Operation">The quorum operation.</param>
/// <param name="Executed">Whether it ran now.</param>
/// <param name="Results">Per key, when it ran.</param>
public sealed record ClusterRun(QuorumOperation Operation, bool Executed, IReadOnlyList<KeyCopyResult> Results);

/// <summary>
/// <c>minica hsm add-member</c>, <c>sync</c> and <c>remove-member</c>: drift reports, and the key copies and
/// destructions that run only once a quorum of administrators approved them.
/// </summary>
public sealed class ClusterOperations(HsmCluster cluster, QuorumService quorum, IAuthorityStore authorities, CaBootstrapper bootstrapper)
{
    /// <summary>
    /// The logical CA keys: every active authority's key, and the OCSP responders' keys and the audit keys
    /// (<c>audit</c>, <c>audit-2</c>, …, which sign the audit log's anchors) found on any member.
    /// </summary>
    public async Task<IReadOnlyList<string>> KeyLabelsAsync(CancellationToken cancellationToken = default)
    {
        var recorded = await authorities.ListAsync(cancellationToken);
        bootstrapper.AnchorKeys(recorded);
        var labels = recorded.Where(a => a.Status == AuthorityStatus.Active)
            .Select(a => Pkcs11KeyStore.LogicalName(a.KeyUri))
            .ToList();
        foreach (var member in cluster.Members.Where(m => m.State == HsmMemberState.Up))
        {
            labels.AddRange(member.Keys.ListKeys().Select(k => k.Label).Where(l => l.StartsWith("ocsp-", StringComparison.Ordinal) || AuditKeyRotation.IsKeyName(l)));
        }

        return labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every CA key on every member: ok, missing, different or unreachable.</summary>
    public async Task<IReadOnlyList<KeyDrift>> ReportAsync(CancellationToken cancellationToken = default) =>
        ClusterSync.Report(cluster, await KeyLabelsAsync(cancellationToken));

    /// <summary>Copies every CA key to member <paramref name="name"/> once a quorum approved it.</summary>
    public async Task<ClusterRun> AddMemberAsync(string name, string actor, CancellationToken cancellationToken = default)
    {
        var member = cluster[name];
        if (member.State != HsmMemberState.Up)
        {
            throw new CaException(CaErrorKind.InvalidState, $"HSM member '{name}' is down ({member.LastError}); it must answer before keys can be copied to it.");
        }

        var (operation, ready) = await quorum.RequireAsync(QuorumKinds.AddMember, name, actor, cancellationToken);
        if (!ready)
        {
            return new ClusterRun(operation, false, []);
        }

        var results = ClusterSync.Repair(cluster, await KeyLabelsAsync(cancellationToken), onlyMember: name);
        await quorum.CompleteAsync(operation, actor, Summarise(results), cancellationToken);
        return new ClusterRun(operation, true, results);
    }

    /// <summary>Copies missing keys to every member that lacks them once a quorum approved it.</summary>
    public async Task<ClusterRun> RepairAsync(string actor, CancellationToken cancellationToken = default)
    {
        var (operation, ready) = await quorum.RequireAsync(QuorumKinds.CopyKeys, "*", actor, cancellationToken);
        if (!ready)
        {
            return new ClusterRun(operation, false, []);
        }

        var results = ClusterSync.Repair(cluster, await KeyLabelsAsync(cancellationToken));
        await quorum.CompleteAsync(operation, actor, Summarise(results), cancellationToken);
        return new ClusterRun(operation, true, results);
    }

    /// <summary>
    /// Destroys every CA key on member <paramref name="name"/> once a quorum approved it, so the member can leave
    /// the configuration. Refused, before and at the run, when the member is the last one holding any key.
    /// </summary>
    public async Task<ClusterRun> RemoveMemberAsync(string name, string actor, CancellationToken cancellationToken = default)
    {
        var labels = await KeyLabelsAsync(cancellationToken);
        EnsureNotLastHolder(name, labels);
        var (operation, ready) = await quorum.RequireAsync(QuorumKinds.RemoveMember, name, actor, cancellationToken);
        if (!ready)
        {
            return new ClusterRun(operation, false, []);
        }

        EnsureNotLastHolder(name, labels);
        var member = cluster[name];
        var results = new List<KeyCopyResult>();
        foreach (var label in labels)
        {
            var destroyed = member.Keys.DestroyKey(label);
            results.Add(new KeyCopyResult(label, destroyed > 0 ? "destroyed" : "absent", destroyed > 0
                ? $"'{label}' destroyed on '{name}' ({destroyed} object(s))."
                : $"'{label}' was not on '{name}'."));
        }

        member.ForgetKeys();
        foreach (var label in labels)
        {
            member.MarkKeyAbsent(label, "removed from the cluster");
        }

        await quorum.CompleteAsync(operation, actor, Summarise(results), cancellationToken);
        return new ClusterRun(operation, true, results);
    }

    private void EnsureNotLastHolder(string name, IReadOnlyList<string> labels)
    {
        _ = cluster[name];
        var drift = ClusterSync.Report(cluster, labels);
        foreach (var label in labels)
        {
            var holders = drift.Where(d => d.Label == label && d.State == "ok").Select(d => d.Member).ToList();
            if (holders.Count == 1 && holders[0] == name)
            {
                throw new CaException(
                    CaErrorKind.InvalidState,
                    $"Refused: HSM member '{name}' is the last member holding '{label}'; copy it to another member first (`minica hsm add-member`).");
            }
        }
    }

    private static string Summarise(IReadOnlyList<KeyCopyResult> results) =>
        results.Count == 0 ? "nothing to do" : string.Join(" ", results.Select(r => $"{r.Label}: {r.Outcome}."));
}
