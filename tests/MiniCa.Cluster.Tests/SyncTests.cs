using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Quorum;
using MiniCa.Core.Errors;
using MiniCa.Core.Quorum;
using MiniCa.Core.Signing;
using MiniCa.Data;
using MiniCa.Hosting;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Security;

namespace MiniCa.Cluster.Tests;

/// <summary>add-member, sync and remove-member over two SoftHSM2 token stores, behind a 2-of-N quorum.</summary>
public sealed class SyncTests
{
    [Fact]
    public async Task AddMember_WaitsForTwoAdministrators_ThenCopiesEveryKeyNonExtractable()
    {
        await using var ca = await ClusterCa.StartDirectAsync(quorum: 2);
        var operations = ca.Services.GetRequiredService<ClusterOperations>();
        var quorum = ca.Services.GetRequiredService<QuorumService>();
        Assert.Contains(await operations.ReportAsync(), d => d.Member == "b" && d.Label == "root" && d.State == "missing");

        var first = await operations.AddMemberAsync("b", "cli:operator");
        Assert.False(first.Executed);
        Assert.Equal(QuorumStatus.Pending, first.Operation.Status);
        Assert.Equal(2, first.Operation.RequiredApprovals);
        Assert.False(ca.Cluster["b"].Keys.KeyExists("root"));

        Assert.Equal(QuorumStatus.Pending, (await quorum.ApproveAsync(first.Operation.Id, "alice")).Status);
        var twice = await Assert.ThrowsAsync<CaException>(() => quorum.ApproveAsync(first.Operation.Id, "alice"));
        Assert.Equal(CaErrorKind.AlreadyExists, twice.Kind);
        Assert.False((await operations.AddMemberAsync("b", "cli:operator")).Executed);
        Assert.Equal(QuorumStatus.Approved, (await quorum.ApproveAsync(first.Operation.Id, "bob")).Status);

        var run = await operations.AddMemberAsync("b", "cli:operator");

        Assert.True(run.Executed);
        Assert.True(run.Results.All(r => r.Outcome == "copied"), string.Join(" ", run.Results.Select(r => r.Detail)));
        Assert.Equal(["issuing:copied", "root:copied"], run.Results.Select(r => $"{r.Label}:{r.Outcome}").Order());
        var b = ca.Cluster["b"];
        foreach (var key in b.Keys.ListKeys())
        {
            Assert.True(key.Sensitive, key.Label);
            Assert.False(key.Extractable, key.Label);
            Assert.False(key.ValueReadable, key.Label);
        }

        foreach (var label in new[] { "root", "issuing" })
        {
            var signer = b.GetSigner(label);
            var algorithm = SignatureAlgorithms.DefaultFor(signer.Algorithm);
            var message = "made by member b"u8.ToArray();
            var signature = signer.Sign(algorithm, message);
            var verifier = SignerUtilities.GetSigner(SignatureAlgorithms.Identifier(algorithm).Algorithm.Id);
            verifier.Init(false, PublicKeyFactory.CreateKey(SubjectPublicKeyInfo.GetInstance(ca.Cluster.ReferenceKey(label))));
            verifier.BlockUpdate(message, 0, message.Length);
            Assert.True(verifier.VerifySignature(signature), label);
        }

        Assert.All(await operations.ReportAsync(), d => Assert.Equal("ok", d.State));
        // The approved operation ran once: a second run asks for a new quorum.
        var again = await operations.AddMemberAsync("b", "cli:operator");
        Assert.False(again.Executed);
        Assert.NotEqual(first.Operation.Id, again.Operation.Id);

        await using var db = await ca.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>().CreateDbContextAsync();
        var audit = await db.AuditEvents.Where(e => e.Action.StartsWith("quorum.")).Select(e => e.Action + " " + e.Actor).ToListAsync();
        Assert.Equal(["quorum.approve alice", "quorum.approve bob", "quorum.execute cli:operator", "quorum.request cli:operator", "quorum.request cli:operator"], audit.Order());
    }

    [Fact]
    public async Task Sync_DetectsADeletedKey_RepairsItAfterQuorum_AndTheLastHolderCannotBeRemoved()
    {
        await using var ca = await ClusterCa.StartDirectAsync(quorum: 1);
        var operations = ca.Services.GetRequiredService<ClusterOperations>();
        var quorum = ca.Services.GetRequiredService<QuorumService>();

        // Only member a holds the keys: removing it is refused before any quorum is asked.
        var refused = await Assert.ThrowsAsync<CaException>(() => operations.RemoveMemberAsync("a", "cli:operator"));
        Assert.Contains("last member holding", refused.Message, StringComparison.Ordinal);

        var add = await operations.AddMemberAsync("b", "cli:operator");
        await quorum.ApproveAsync(add.Operation.Id, "alice");
        Assert.True((await operations.AddMemberAsync("b", "cli:operator")).Executed);

        // A key deleted on one member is drift.
        Assert.Equal(2, ca.Cluster["b"].Keys.DestroyKey("issuing"));
        var drift = await operations.ReportAsync();
        Assert.Equal(["b/issuing:missing"], drift.Where(d => d.State != "ok").Select(d => $"{d.Member}/{d.Label}:{d.State}"));

        var repair = await operations.RepairAsync("cli:operator");
        Assert.False(repair.Executed);
        await quorum.ApproveAsync(repair.Operation.Id, "alice");
        var repaired = await operations.RepairAsync("cli:operator");
        Assert.True(repaired.Executed);
        Assert.Equal("issuing:copied", Assert.Single(repaired.Results, r => r.Outcome != "present").Label + ":copied");
        Assert.All(await operations.ReportAsync(), d => Assert.Equal("ok", d.State));

        // Now both hold every key: a may leave (after its quorum), and then b is the last holder.
        var remove = await operations.RemoveMemberAsync("a", "cli:operator");
        await quorum.ApproveAsync(remove.Operation.Id, "alice");
        var removed = await operations.RemoveMemberAsync("a", "cli:operator");
        Assert.True(removed.Executed);
        Assert.All(removed.Results, r => Assert.Equal("destroyed", r.Outcome));
        Assert.Empty(ca.Cluster["a"].Keys.ListKeys());
        Assert.Contains("last member holding", (await Assert.ThrowsAsync<CaException>(() => operations.RemoveMemberAsync("b", "cli:operator"))).Message, StringComparison.Ordinal);

        // Signing goes on, on b alone.
        var issued = await ca.IssueAsync("after-removal.cluster.example.com");
        Assert.Equal(MiniCa.Core.Ledger.RequestStatus.Issued, issued.Status);
    }

    [Fact]
    public async Task AuditKeys_AreCopiedToANewMember_AndTheLogChecksAndSignsOnItAlone()
    {
        await using var ca = await ClusterCa.StartDirectAsync(quorum: 1);
        var operations = ca.Services.GetRequiredService<ClusterOperations>();
        var quorum = ca.Services.GetRequiredService<QuorumService>();
        var integrity = ca.Services.GetRequiredService<AuditLogIntegrity>();
        async Task<MiniCa.Core.Ledger.SignedAuditAnchor?> SignHeadAsync() =>
            await integrity.SignAsync((await integrity.CheckAsync([], DateTimeOffset.UtcNow)).Chain.Head!);

        // The first audit key and its successor, both made through the cluster's key manager (on member a).
        Assert.NotNull(await SignHeadAsync());
        await integrity.RotateAsync("cli:operator");
        Assert.Equal("audit-2", (await SignHeadAsync())!.KeyName);
        Assert.Equal(["b/audit-2:missing", "b/audit:missing", "b/issuing:missing", "b/root:missing"],
            (await operations.ReportAsync()).Where(d => d.State != "ok").Select(d => $"{d.Member}/{d.Label}:{d.State}").Order(StringComparer.Ordinal));

        var add = await operations.AddMemberAsync("b", "cli:operator");
        await quorum.ApproveAsync(add.Operation.Id, "alice");
        var added = await operations.AddMemberAsync("b", "cli:operator");
        Assert.True(added.Executed);
        Assert.Equal(["audit-2:copied", "audit:copied", "issuing:copied", "root:copied"], added.Results.Select(r => $"{r.Label}:{r.Outcome}").Order(StringComparer.Ordinal));
        foreach (var key in ca.Cluster["b"].Keys.ListKeys())
        {
            Assert.True(key.Sensitive, key.Label);
            Assert.False(key.Extractable, key.Label);
        }

        // Member a gone: b alone checks both keys' anchors and signs the next with the newest key.
        var remove = await operations.RemoveMemberAsync("a", "cli:operator");
        await quorum.ApproveAsync(remove.Operation.Id, "alice");
        Assert.True((await operations.RemoveMemberAsync("a", "cli:operator")).Executed);
        Assert.Empty(ca.Cluster["a"].Keys.ListKeys());
        Assert.Equal(MiniCa.Core.Ledger.RequestStatus.Issued, (await ca.IssueAsync("audit-on-b.cluster.example.com")).Status);
        var next = await SignHeadAsync();
        Assert.Equal("audit-2", next!.KeyName);
        var check = await integrity.CheckAsync([], DateTimeOffset.UtcNow);
        Assert.True(check.Intact, string.Join(" ", check.SignedAnchors.Select(c => c.Problem)));
        Assert.Equal(3, check.SignedAnchors.Count);
        Assert.Equal(2, check.SigningKeys);
        Assert.True(Assert.Single(check.KeyRotations).Holds);
    }
}
