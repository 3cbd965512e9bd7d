using MiniCa.Core.Ledger;

namespace MiniCa.Unit.Tests.Ledger;

public sealed class AuditChainTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly AuditChainEvent First = new(1, T0.AddTicks(1_234_560), "admin", "user.created", "user:carol", "roles Officer, Auditor");

    private static readonly AuditChainEvent Second = new(2, T0.AddSeconds(1), "minica", "certificate.issued", "certificate:0a1b", "nul\\00name é");

    [Fact]
    public void Next_KnownEvents_MatchValuesComputedApartFromThisCode()
    {
        // Computed with Python's hashlib and struct from the format as the README writes it, not from this code.
        Assert.Equal("3b1c336df5a2c5060328ec2b2e86865ddbd4c246d96218b3e10361b636ede7f9", Convert.ToHexStringLower(AuditChain.Start));
        var first = AuditChain.Next(AuditChain.Start, First);
        Assert.Equal("23ad6567430df11091d5f74200176a0cfdfa3374298ddfbca08a2318e45ff015", Convert.ToHexStringLower(first));
        Assert.Equal("47bd085f45bf8a39cced608c782b2c9a0af4b0dcd8e7eec60867e8c82233786c", Convert.ToHexStringLower(AuditChain.Next(first, Second)));
    }

    public static TheoryData<AuditChainEvent> OneFieldChanged() =>
    [
        First with { Id = 3 },
        First with { At = First.At.AddTicks(10) },
        First with { Actor = "admin2" },
        First with { Action = "user.deleted" },
        First with { Subject = "user:carl" },
        First with { Details = "roles Officer, Auditor " },
        // The byte counts keep the fields apart: the same bytes split differently are another event.
        First with { Actor = "adminu", Action = "ser.created" },
    ];

    [Theory]
    [MemberData(nameof(OneFieldChanged))]
    public void Next_AnyFieldChanged_AnotherValue(AuditChainEvent changed)
    {
        Assert.NotEqual(Convert.ToHexStringLower(AuditChain.Next(AuditChain.Start, First)), Convert.ToHexStringLower(AuditChain.Next(AuditChain.Start, changed)));
    }

    [Fact]
    public void Next_ASubMicrosecondDifference_TheSameValue()
    {
        // Time counts in microseconds, the finest both databases keep.
        Assert.Equal(AuditChain.Next(AuditChain.Start, First), AuditChain.Next(AuditChain.Start, First with { At = First.At.AddTicks(9) }));
    }

    [Theory]
    [InlineData("12:0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF", 12L)]
    [InlineData("1:" + "00000000000000000000000000000000" + "00000000000000000000000000000000", 1L)]
    public void Parse_IdColonHash_Read(string text, long id)
    {
        var anchor = AuditAnchor.Parse(text)!;
        Assert.Equal(id, anchor.EventId);
        Assert.Equal(text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..].ToLowerInvariant(), anchor.Hash);
        Assert.Equal(text.ToLowerInvariant(), anchor.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("12")]
    [InlineData(":0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("0:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("-1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData(" 1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]
    [InlineData("1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeff")]
    [InlineData("1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]
    [InlineData("99999999999999999999:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Parse_NotIdColonHash_Null(string? text) => Assert.Null(AuditAnchor.Parse(text));

    private static List<AuditChainEvent> Log(int count) =>
        Enumerable.Range(1, count).Select(i => new AuditChainEvent(i * 2, T0.AddMinutes(i), "officer", "request.approved", $"request:{i}", $"approval {i}")).ToList();

    private static Task<AuditChainReport> VerifyAsync(IEnumerable<AuditChainEvent> log, DateTimeOffset settledBefore, params AuditAnchor[] anchors) =>
        AuditChain.VerifyAsync(log.ToAsyncEnumerable(), anchors, settledBefore);

    [Fact]
    public async Task Verify_UnchangedLogWithMoreEventsSince_AnchorsHoldHeadIsTheNewestSettledEvent()
    {
        var log = Log(10);
        var taken = await VerifyAsync(log.Take(6), DateTimeOffset.MaxValue);
        Assert.Equal(12, taken.Head!.EventId);
        Assert.Equal(0, taken.NewerEvents);

        // Four events later, settled up to the eighth (at T0 + 8 minutes).
        var report = await VerifyAsync(log, T0.AddMinutes(8), taken.Head, (await VerifyAsync(log.Take(3), DateTimeOffset.MaxValue)).Head!);
        Assert.True(report.Intact);
        Assert.Equal([6L, 12L], report.Anchors.Select(a => a.Anchor.EventId));
        Assert.Equal(10, report.Events);
        Assert.Equal(16, report.Head!.EventId);
        Assert.Equal(T0.AddMinutes(8), report.HeadAt);
        Assert.Equal(2, report.NewerEvents);
        Assert.Equal(report.Head, (await VerifyAsync(log.Take(8), DateTimeOffset.MaxValue)).Head);
    }

    [Fact]
    public async Task Verify_FromAnAnchorOverTheEventsAfterIt_TheSameHeadAsOverTheWholeLog()
    {
        var log = Log(10);
        var earlier = (await VerifyAsync(log.Take(4), DateTimeOffset.MaxValue)).Head!;
        var whole = await VerifyAsync(log, T0.AddMinutes(9));
        var onwards = await AuditChain.VerifyAsync(log.Skip(4).ToAsyncEnumerable(), [], T0.AddMinutes(9), earlier);
        Assert.Equal(whole.Head, onwards.Head);
        Assert.Equal(whole.HeadAt, onwards.HeadAt);
        Assert.Equal(6, onwards.Events);
        Assert.Equal(1, onwards.NewerEvents);

        // Nothing settled since: the anchor it started from; an event at or before it is refused.
        Assert.Equal(earlier, (await AuditChain.VerifyAsync(log.Skip(4).ToAsyncEnumerable(), [], T0, earlier)).Head);
        await Assert.ThrowsAsync<ArgumentException>(() => AuditChain.VerifyAsync(log.Skip(3).ToAsyncEnumerable(), [], T0, earlier));
        // An anchor the chain cannot reach from where it starts is refused, not reported as removed.
        await Assert.ThrowsAsync<ArgumentException>(() => AuditChain.VerifyAsync(log.Skip(4).ToAsyncEnumerable(), [earlier], T0, earlier));
    }

    [Fact]
    public async Task Verify_NothingSettled_NoHead()
    {
        var report = await VerifyAsync(Log(3), T0);
        Assert.Null(report.Head);
        Assert.Equal(3, report.NewerEvents);
        Assert.True(report.Intact);
    }

    public static TheoryData<string> Tampering() => ["changed", "removed", "inserted", "reordered times"];

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task Verify_AnEventUpToTheAnchorTampered_AnchorFailsLaterOnesUntouchedHold(string how)
    {
        var log = Log(10);
        var anchor = (await VerifyAsync(log.Take(7), DateTimeOffset.MaxValue)).Head!;
        switch (how)
        {
            case "changed":
                log[3] = log[3] with { Details = "approval 4, and more" };
                break;
            case "removed":
                log.RemoveAt(3);
                break;
            case "inserted":
                log.Insert(3, log[3] with { Id = log[3].Id - 1 });
                break;
            default:
                (log[2], log[3]) = (log[2] with { At = log[3].At }, log[3] with { At = log[2].At });
                break;
        }

        var report = await VerifyAsync(log, DateTimeOffset.MaxValue, anchor);
        var check = Assert.Single(report.Anchors);
        Assert.False(check.Holds);
        Assert.False(report.Intact);
        Assert.Equal($"up to event 14 the log now hashes to {(await VerifyAsync(log.Where(e => e.Id <= 14), DateTimeOffset.MaxValue)).Head!.Hash}: an event up to 14 was changed, removed or inserted since the anchor was taken", check.Problem);
    }

    [Fact]
    public async Task Verify_TheAnchorsOwnEventRemoved_SaysSo()
    {
        var log = Log(10);
        var anchor = (await VerifyAsync(log.Take(7), DateTimeOffset.MaxValue)).Head!;
        log.RemoveAt(6);
        var check = Assert.Single((await VerifyAsync(log, DateTimeOffset.MaxValue, anchor)).Anchors);
        Assert.Equal("event 14 is no longer in the audit log (removed)", check.Problem);
    }

    [Fact]
    public async Task Verify_TheLogCutBeforeTheAnchor_SaysWhereItEnds()
    {
        var log = Log(10);
        var anchor = (await VerifyAsync(log.Take(7), DateTimeOffset.MaxValue)).Head!;
        var check = Assert.Single((await VerifyAsync(log.Take(5), DateTimeOffset.MaxValue, anchor)).Anchors);
        Assert.Equal("the audit log ends at event 10, before event 14 (events removed from its end)", check.Problem);
        Assert.Equal("the audit log is empty", Assert.Single((await VerifyAsync([], DateTimeOffset.MaxValue, anchor)).Anchors).Problem);
    }

    [Fact]
    public async Task Verify_SeveralAnchorsSomeEventsRemoved_EachSaysWhatItFound()
    {
        var log = Log(10);
        var anchors = new List<AuditAnchor>();
        foreach (var n in new[] { 2, 5, 6, 9 })
        {
            anchors.Add((await VerifyAsync(log.Take(n), DateTimeOffset.MaxValue)).Head!);
        }

        // Events 10 and 12 removed: the anchors at 4 holds, at 10 and 12 (its own event gone) do not, at 18 does not.
        log.RemoveAll(e => e.Id is 10 or 12);
        var report = await VerifyAsync(log, DateTimeOffset.MaxValue, [.. anchors, anchors[0]]);
        Assert.Equal([4L, 4L, 10L, 12L, 18L], report.Anchors.Select(a => a.Anchor.EventId));
        Assert.Equal([true, true, false, false, false], report.Anchors.Select(a => a.Holds));
        Assert.Equal("event 10 is no longer in the audit log (removed)", report.Anchors[2].Problem);
        Assert.Equal("event 12 is no longer in the audit log (removed)", report.Anchors[3].Problem);
        Assert.StartsWith("up to event 18 the log now hashes to ", report.Anchors[4].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AWrongHashForAnExistingEvent_Fails()
    {
        var anchor = new AuditAnchor(4, new string('0', 64));
        var check = Assert.Single((await VerifyAsync(Log(3), DateTimeOffset.MaxValue, anchor)).Anchors);
        Assert.False(check.Holds);
        Assert.StartsWith("up to event 4 the log now hashes to ", check.Problem, StringComparison.Ordinal);
    }
}
