using MiniCa.Core.Issuance;
using MiniCa.Core.Profiles;
using Org.BouncyCastle.Asn1;

namespace MiniCa.Unit.Tests.Profiles;

/// <summary>A profile's and an authority's certificatePolicies: what is refused, and how they are encoded and read back.</summary>
public sealed class CertificatePolicyTests
{
    private static List<string> ProfileProblems(string policies)
    {
        var problems = new List<string>();
        ProfileLoader.Parse("/p/test.json", $$"""{ "description": "x", "keyUsage": ["digitalSignature"], "identifiers": { "dns": { "allowed": true } }, "certificatePolicies": {{policies}} }""", problems);
        return problems;
    }

    private static IReadOnlyList<string> CaProblems(params CertificatePolicyEntry?[] entries) =>
        CertificatePolicyStatements.Problems(entries, "K", (i, field) => field is null ? $"K:{i}" : $"K:{i}:{field}", forCa: true);

    [Fact]
    public void Profile_WithPolicies_LoadsThemInOrder()
    {
        var problems = ProfileProblems("""[ { "oid": "1.3.6.1.4.1.55555.1.1", "cps": "https://pki.example.com/cps", "notice": "Internal use only" }, { "oid": "2.23.140.1.2.1" } ]""");

        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("""[ { "oid": "anyPolicy" } ]""", "certificatePolicies[0].oid: anyPolicy is for CA certificates; a subscriber certificate asserts the policies it was issued under (BR §7.1.2.7.9)")]
    [InlineData("""[ { "oid": "2.5.29.32.0" } ]""", "certificatePolicies[0].oid: anyPolicy is for CA certificates; a subscriber certificate asserts the policies it was issued under (BR §7.1.2.7.9)")]
    [InlineData("""[ { "oid": "1.2.3" }, { "oid": "1.2.3" } ]""", "certificatePolicies[1].oid: 1.2.3 is listed twice; a policy appears at most once (RFC 5280 §4.2.1.4)")]
    [InlineData("""[ { "oid": "1.2.x" } ]""", "certificatePolicies[0].oid: '1.2.x' is not a dotted OID such as 1.3.6.1.4.1.55555.1.1 (or anyPolicy)")]
    [InlineData("""[ { "oid": "3.1" } ]""", "certificatePolicies[0].oid: '3.1' is not a dotted OID such as 1.3.6.1.4.1.55555.1.1 (or anyPolicy)")]
    [InlineData("""[ { "oid": "1.02.3" } ]""", "certificatePolicies[0].oid: '1.02.3' is not a dotted OID such as 1.3.6.1.4.1.55555.1.1 (or anyPolicy)")]
    [InlineData("""[ { "oid": "1" } ]""", "certificatePolicies[0].oid: '1' is not a dotted OID such as 1.3.6.1.4.1.55555.1.1 (or anyPolicy)")]
    [InlineData("""[ { "oid": "1.40.1" } ]""", "certificatePolicies[0].oid: '1.40.1' is not an OID: under 0 and 1 the second arc is at most 39 (X.660)")]
    [InlineData("""[ { "cps": "https://pki.example.com/cps" } ]""", "certificatePolicies[0].oid: '' is not a dotted OID such as 1.3.6.1.4.1.55555.1.1 (or anyPolicy)")]
    [InlineData("""[ null ]""", "certificatePolicies[0]: is empty; give an object with an oid")]
    [InlineData("""[ { "oid": "1.2.3", "cps": "ftp://pki.example.com/cps" } ]""", "certificatePolicies[0].cps: 'ftp://pki.example.com/cps' is not an http or https URL (BR §7.1.2.7.9)")]
    [InlineData("""[ { "oid": "1.2.3", "cps": "cps.html" } ]""", "certificatePolicies[0].cps: 'cps.html' is not an http or https URL (BR §7.1.2.7.9)")]
    [InlineData("""[ { "oid": "1.2.3", "cps": "https://pki.example.com/our cps" } ]""", "certificatePolicies[0].cps: 'https://pki.example.com/our cps' must be an http or https URL of printable ASCII without spaces (an IA5String, RFC 5280 §4.2.1.4)")]
    [InlineData("""[ { "oid": "1.2.3", "cps": "https://pki.exämple.com/" } ]""", "certificatePolicies[0].cps: 'https://pki.exämple.com/' must be an http or https URL of printable ASCII without spaces (an IA5String, RFC 5280 §4.2.1.4)")]
    [InlineData("""[ { "oid": "1.2.3", "notice": "" } ]""", "certificatePolicies[0].notice: 0 characters; an explicitText has 1..200 (RFC 5280 §4.2.1.4)")]
    [InlineData("""[ { "oid": "1.2.3", "notice": "line one\nline two" } ]""", "certificatePolicies[0].notice: 'line one\\0Aline two' holds a control character, which an explicitText should not (RFC 6818 §3)")]
    public void Profile_BadPolicy_IsRefusedNamingTheField(string policies, string expected)
    {
        Assert.Equal(["/p/test.json: " + expected], ProfileProblems(policies));
    }

    [Fact]
    public void Profile_NoticeOver200Characters_IsRefused()
    {
        Assert.Equal(
            ["/p/test.json: certificatePolicies[0].notice: 201 characters; an explicitText has 1..200 (RFC 5280 §4.2.1.4)"],
            ProfileProblems($$"""[ { "oid": "1.2.3", "notice": "{{new string('n', 201)}}" } ]"""));
        Assert.Empty(ProfileProblems($$"""[ { "oid": "1.2.3", "notice": "{{new string('n', 200)}}" } ]"""));
    }

    [Fact]
    public void Profile_MoreThan20Policies_IsRefused()
    {
        var policies = "[" + string.Join(", ", Enumerable.Range(1, 21).Select(i => $$"""{ "oid": "1.2.{{i}}" }""")) + "]";

        Assert.Equal(["/p/test.json: certificatePolicies: 21 policies; at most 20"], ProfileProblems(policies));
    }

    [Fact]
    public void Authority_AnyPolicy_IsAllowed_AndProblemsNameTheKey()
    {
        Assert.Empty(CaProblems(new CertificatePolicyEntry { Oid = "anyPolicy" }, new CertificatePolicyEntry { Oid = "1.3.6.1.4.1.55555.1.1", Cps = "http://pki.example.com/cps" }));
        Assert.Equal(
            ["K:1:oid: 2.5.29.32.0 is listed twice; a policy appears at most once (RFC 5280 §4.2.1.4)", "K:2: is empty; give an object with an oid"],
            CaProblems(new CertificatePolicyEntry { Oid = "anyPolicy" }, new CertificatePolicyEntry { Oid = "2.5.29.32.0" }, null));
    }

    [Fact]
    public void Build_TheEncodingIsRfc5280s()
    {
        // SEQUENCE { SEQUENCE { OID 1.2.3 } }: no qualifiers, no empty qualifier list.
        Assert.Equal("3006300406022A03", Convert.ToHexString(CertificatePolicyStatements.Build([new CertificatePolicyEntry { Oid = "1.2.3" }])!.GetDerEncoded()));

        // anyPolicy is 2.5.29.32.0; a CPS pointer is an IA5String under id-qt-cps (1.3.6.1.5.5.7.2.1); a notice is a
        // UserNotice SEQUENCE holding the explicitText as UTF8String under id-qt-unotice (1.3.6.1.5.5.7.2.2).
        var der = CertificatePolicyStatements.Build([new CertificatePolicyEntry { Oid = "anyPolicy", Cps = "http://a/", Notice = "é" }])!.GetDerEncoded();
        Assert.Equal(
            "3033" + "3031" + "0604551D2000" + "3029"
            + "3015" + "06082B06010505070201" + "1609687474703A2F2F612F"
            + "3010" + "06082B06010505070202" + "3004" + "0C02C3A9",
            Convert.ToHexString(der));
        Assert.Null(CertificatePolicyStatements.Build([]));
        Assert.Null(CertificatePolicyStatements.Build(null));
    }

    [Fact]
    public void Read_GivesBackWhatBuildWrote()
    {
        var value = CertificatePolicyStatements.Build([
            new CertificatePolicyEntry { Oid = "1.3.6.1.4.1.55555.1.1", Cps = "https://pki.example.com/cps", Notice = "Nur für den internen Gebrauch" },
            new CertificatePolicyEntry { Oid = "1.3.6.1.4.1.55555.1.2" },
        ])!;

        var read = CertificatePolicyStatements.Read(Asn1Object.FromByteArray(value.GetDerEncoded()));

        Assert.Equal(["1.3.6.1.4.1.55555.1.1", "1.3.6.1.4.1.55555.1.2"], read.Select(p => p.Oid));
        Assert.Equal(["https://pki.example.com/cps"], read[0].Cps);
        Assert.Equal(new[] { ("Nur für den internen Gebrauch", typeof(DerUtf8String)) }, read[0].ExplicitTexts.Select(t => (t.Text, t.Encoding)));
        Assert.Empty(read[1].Cps);
        Assert.Empty(read[1].ExplicitTexts);
    }

    [Fact]
    public void NotConveyed_IsWhatTheCaNeitherAssertsNorCoversWithAnyPolicy()
    {
        var ca = CertificatePolicyStatements.Read(Asn1Object.FromByteArray(CertificatePolicyStatements.Build([new CertificatePolicyEntry { Oid = "1.2.3" }, new CertificatePolicyEntry { Oid = "1.2.4" }])!.GetDerEncoded()));
        var any = CertificatePolicyStatements.Read(Asn1Object.FromByteArray(CertificatePolicyStatements.Build([new CertificatePolicyEntry { Oid = "anyPolicy" }])!.GetDerEncoded()));

        Assert.Equal(["1.2.5"], CertificatePolicyStatements.NotConveyed(["1.2.3", "1.2.5", "1.2.4"], ca));
        Assert.Empty(CertificatePolicyStatements.NotConveyed(["1.2.5"], any));
        Assert.Equal(["1.2.3"], CertificatePolicyStatements.NotConveyed(["1.2.3"], []));
    }
}
