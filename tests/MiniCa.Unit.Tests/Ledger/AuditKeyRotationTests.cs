using MiniCa.Core.Ledger;

namespace MiniCa.Unit.Tests.Ledger;

/// <summary>
/// The audit key's names and the text of a rotation in the audit log. The rotation itself (a key generated in the
/// HSM, anchors of the old key over later events refused) is tested with SoftHSM2 in <c>CliAuditTests</c>.
/// </summary>
public sealed class AuditKeyRotationTests
{
    private static readonly AuditKeyRotation Sample = new("audit", new string('a', 64), "audit-2", new string('b', 64), "cli:alice");

    [Theory]
    [InlineData(1, "audit")]
    [InlineData(2, "audit-2")]
    [InlineData(10, "audit-10")]
    public void KeyName_IsTheGenerationsName_AndIsAnAuditKeyName(int generation, string expected)
    {
        Assert.Equal(expected, AuditKeyRotation.KeyName(generation));
        Assert.True(AuditKeyRotation.IsKeyName(expected));
    }

    [Fact]
    public void KeyName_GenerationZero_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AuditKeyRotation.KeyName(0));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("issuing")]
    [InlineData("audit-1")]
    [InlineData("audit-02")]
    [InlineData("audit-+2")]
    [InlineData("audit- 2")]
    [InlineData("audit-")]
    [InlineData("audit-2x")]
    [InlineData("Audit")]
    [InlineData("audit-99999999999")]
    public void IsKeyName_OtherNames_AreNot(string? name) => Assert.False(AuditKeyRotation.IsKeyName(name));

    [Fact]
    public void ToString_ParsesBackToTheSameRotation()
    {
        var text = Sample.ToString();
        Assert.Equal($"from=audit from-sha256={new string('a', 64)} to=audit-2 to-sha256={new string('b', 64)} by=cli:alice", text);
        Assert.Equal(Sample, AuditKeyRotation.Parse(text, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData(null, "no from= audit key name")]
    [InlineData("from=issuing", "no from= audit key name")]
    [InlineData("from=audit from-sha256=AB", "no from-sha256= of 64 lowercase hex digits")]
    [InlineData("from=audit from-sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa to=root", "no to= audit key name")]
    [InlineData("from=audit from-sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa to=audit-2 to-sha256=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "no to-sha256= of 64 lowercase hex digits")]
    [InlineData("from=audit from-sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa to=audit-2 to-sha256=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "no by=WHO")]
    [InlineData("from=audit from-sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa to=audit-2 to-sha256=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb by=x note=y", "fields other than from, from-sha256, to, to-sha256 and by: note")]
    [InlineData("from=audit from=audit-2", "'from=audit-2' is not a NAME=VALUE field of its own")]
    [InlineData("from", "'from' is not a NAME=VALUE field of its own")]
    public void Parse_NotARotation_SaysWhatIsWrong(string? details, string expected)
    {
        Assert.Null(AuditKeyRotation.Parse(details, out var problem));
        Assert.Equal(expected, problem);
    }
}
