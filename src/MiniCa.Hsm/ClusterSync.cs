using MiniCa.Core.Errors;

namespace MiniCa.Hsm;

/// <summary>One logical key on one member, as <c>minica hsm sync</c> reports it.</summary>
/// <param name="Member">The member.</param>
/// <param name="Label">The logical key.</param>
/// <param name="State"><c>ok</c>, <c>missing</c>, <c>different</c> (another public key) or <c>unreachable</c> (member down).</param>
/// <param name="Detail">A sentence for the operator.</param>
public sealed record KeyDrift(string Member, string Label, string State, string Detail);

/// <summary>
/// Compares the CA keys on every member of a cluster (present? same public key as the cluster's reference?) and
/// repairs missing keys by copying them from a member that holds them (<see cref="KeyReplicator"/>).
/// </summary>
public static class ClusterSync
{
    /// <summary>The state of every key in <paramref name="labels"/> on every member.</summary>
    public static IReadOnlyList<KeyDrift> Report(HsmCluster cluster, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(labels);
        var report = new List<KeyDrift>();
        foreach (var member in cluster.Members)
        {
            foreach (var label in labels)
            {
                report.Add(Inspect(cluster, member, label));
            }
        }

        return report;
    }

    /// <summary>
    /// Copies every missing key to the members that lack it, from the first up member holding the right one.
    /// Keys with another public key are reported, never overwritten (destroying a key is a separate quorum
    /// operation). Returns what was done.
    /// </summary>
    public static IReadOnlyList<KeyCopyResult> Repair(HsmCluster cluster, IReadOnlyList<string> labels, string? onlyMember = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var drift = Report(cluster, labels);
        var results = new List<KeyCopyResult>();
        foreach (var group in drift.Where(d => d.State == "missing" && (onlyMember is null || d.Member == onlyMember)).GroupBy(d => d.Member))
        {
            var target = cluster[group.Key];
            var missing = group.Select(d => d.Label).ToList();
            foreach (var bySource in missing.GroupBy(label => SourceFor(cluster, drift, label, target)))
            {
                if (bySource.Key is null)
                {
                    results.AddRange(bySource.Select(label => new KeyCopyResult(label, "failed", $"no up member holds '{label}' with the cluster's public key; nothing to copy from.")));
                    continue;
                }

                results.AddRange(KeyReplicator.Copy(bySource.Key.Connection, target.Connection, bySource.ToList(), cluster.ReferenceKey));
            }

            target.ForgetKeys();
        }

        return results;
    }

    private static HsmClusterMember? SourceFor(HsmCluster cluster, IReadOnlyList<KeyDrift> drift, string label, HsmClusterMember target) =>
        cluster.Members.FirstOrDefault(m => m != target && m.State == HsmMemberState.Up
            && drift.Any(d => d.Member == m.Name && d.Label == label && d.State == "ok"));

    private static KeyDrift Inspect(HsmCluster cluster, HsmClusterMember member, string label)
    {
        if (member.State != HsmMemberState.Up)
        {
            return new KeyDrift(member.Name, label, "unreachable", $"member is down: {member.LastError}");
        }

        try
        {
            if (!member.Keys.KeyExists(label))
            {
                return new KeyDrift(member.Name, label, "missing", $"'{label}' is not on token '{member.Connection.TokenLabel}'.");
            }

            var spki = member.Keys.GetSigner(label).PublicKeyInfo.GetDerEncoded();
            var reference = cluster.ReferenceKey(label);
            if (reference is null)
            {
                cluster.AnchorKey(label, spki);
                return new KeyDrift(member.Name, label, "ok", "present (first seen here: its public key is the reference).");
            }

            return reference.AsSpan().SequenceEqual(spki)
                ? new KeyDrift(member.Name, label, "ok", "present with the cluster's public key.")
                : new KeyDrift(member.Name, label, "different", $"'{label}' has another public key than the cluster's.");
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.HsmKeyNotFound)
        {
            // A private key without its public half (or the reverse) cannot sign for the cluster.
            return new KeyDrift(member.Name, label, "missing", ex.Message);
        }
        catch (Exception ex) when (HsmCluster.IsMemberFailure(ex))
        {
            return new KeyDrift(member.Name, label, "unreachable", ex.Message);
        }
    }
}
