using MiniCa.Core.Identifiers;

namespace MiniCa.Unit.Tests.Requests;

public sealed class DnsNameTests
{
    [Theory]
    [InlineData("example.com")]
    [InlineData("a-b.example.com")]
    [InlineData("xn--bcher-kva.example")]
    [InlineData("*.example.com")]
    [InlineData("1.example.com")]
    public void Validate_GoodNames_HaveNoProblems(string name)
    {
        Assert.Empty(DnsNames.Validate(name, allowWildcard: true));
    }

    [Theory]
    [InlineData("example.com.", "ends with a dot")]
    [InlineData("-a.example.com", "starts or ends with a hyphen")]
    [InlineData("a..example.com", "has an empty label")]
    [InlineData("_srv.example.com", "contains an underscore")]
    [InlineData("www.*.example.com", "wildcard that is not the whole left-most label")]
    [InlineData("w*.example.com", "wildcard that is not the whole left-most label")]
    [InlineData("*.com", "wildcard directly below a top-level domain")]
    [InlineData("bücher.example", "IDNs must be given as xn-- A-labels")]
    [InlineData("xn--zz.example", "is not a valid IDNA A-label")]
    [InlineData("ab--cd.example", "hyphens in the third and fourth positions")]
    [InlineData("host.123", "all-numeric top-level label")]
    public void Validate_BadNames_SayWhy(string name, string expected)
    {
        Assert.Contains(DnsNames.Validate(name, allowWildcard: true), p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_TooLong_IsReported()
    {
        var label = new string('a', 64);

        Assert.Contains(DnsNames.Validate($"{label}.example.com", false), p => p.Contains("label of 64 characters", StringComparison.Ordinal));
        Assert.Contains(DnsNames.Validate(string.Join('.', Enumerable.Repeat(new string('a', 60), 5)), false), p => p.Contains("at most 253", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("server", true)]
    [InlineData("printer.local", true)]
    [InlineData("db.corp", true)]
    [InlineData("x.home.arpa", true)]
    [InlineData("www.example.com", false)]
    public void IsInternal_KnowsUndelegatedNames(string name, bool expected)
    {
        Assert.Equal(expected, DnsNames.IsInternal(name));
    }

    [Theory]
    [InlineData("*", "anything.example", true)]
    [InlineData("example.com", "example.com", true)]
    [InlineData("example.com", "www.example.com", false)]
    [InlineData("*.example.com", "www.example.com", true)]
    [InlineData("*.example.com", "a.b.example.com", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "*.example.com", true)]
    [InlineData("*.example.com", "badexample.com", false)]
    public void NamePattern_Matches(string pattern, string name, bool expected)
    {
        Assert.Equal(expected, NamePattern.Matches(pattern, name));
    }

    [Fact]
    public void NamePattern_DenyWins()
    {
        Assert.False(NamePattern.IsAllowed(["*.example.com"], ["*.secret.example.com"], "db.secret.example.com"));
        Assert.True(NamePattern.IsAllowed(["*.example.com"], ["*.secret.example.com"], "db.example.com"));
    }
}
