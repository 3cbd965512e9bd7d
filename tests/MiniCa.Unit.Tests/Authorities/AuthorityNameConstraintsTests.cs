using System.Net;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Unit.Tests.Authorities;

/// <summary>
/// A subordinate CA's nameConstraints from its configuration (RFC 5280 §4.2.1.10): each malformed entry named, the
/// extension's encoding, and which names lie within it (BouncyCastle's PKIX validator decides).
/// </summary>
public sealed class AuthorityNameConstraintsTests
{
    private static readonly NameConstraintsOptions Corp = new()
    {
        Permitted = ["dns:corp.example.com", "ip:10.0.0.0/8", "ip:2001:db8::/32", "email:.corp.example.com", "email:pki@example.com"],
        Excluded = ["dns:secret.corp.example.com", "ip:10.99.0.0/16"],
    };

    private static string? Violation(GeneralName name) => AuthorityNameConstraints.Violation(AuthorityNameConstraints.Build(Corp)!.GetDerEncoded(), name);

    private static GeneralName Dns(string name) => new(GeneralName.DnsName, name);

    private static GeneralName Ip(string address) => new(GeneralName.IPAddress, new DerOctetString(IPAddress.Parse(address).GetAddressBytes()));

    private static GeneralName Email(string mailbox) => new(GeneralName.Rfc822Name, mailbox);

    [Fact]
    public void Problems_GoodEntries_None()
    {
        Assert.Empty(AuthorityNameConstraints.Problems(Corp, "Authorities:issuing:NameConstraints"));
    }

    [Theory]
    [InlineData("", "'' is empty")]
    [InlineData("dns:-bad.example.com", "'dns:-bad.example.com' is not a DNS name (")]
    [InlineData("dns:*.example.com", "'dns:*.example.com' is not a DNS name (")]
    [InlineData("ip:10.0.0.1/8", "'ip:10.0.0.1/8' is not an IPv4 or IPv6 CIDR block such as ip:10.0.0.0/8")]
    [InlineData("ip:10.0.0.0", "'ip:10.0.0.0' is not an IPv4 or IPv6 CIDR block")]
    [InlineData("email:@example.com", "'email:@example.com' is not a mailbox (email:pki@example.com), a host (email:example.com) or a domain (email:.example.com)")]
    [InlineData("email:a@b@example.com", "'email:a@b@example.com' is not a mailbox")]
    [InlineData("email:..example.com", "'email:..example.com' is not a mailbox")]
    [InlineData("email:pki@", "'email:pki@' is not a mailbox")]
    [InlineData("uri:https://example.com", "'uri:https://example.com' is not a host (uri:example.org, every URI whose host it is, e.g. spiffe://example.org/…) or a domain (uri:.example.org, every host under it): a URI subtree names the host part only (RFC 5280 §4.2.1.10)")]
    [InlineData("uri:..example.org", "'uri:..example.org' is not a host (uri:example.org")]
    [InlineData("dirName:O=Example", "'dirName:O=Example' names no subtree type: write dns:NAME, ip:CIDR, email:HOST or uri:HOST")]
    [InlineData("DNS:example.com", "'DNS:example.com' names no subtree type")]
    public void Problems_EachBadEntry_NamedWithItsKeyAndIndex(string entry, string expected)
    {
        var problems = AuthorityNameConstraints.Problems(new NameConstraintsOptions { Permitted = ["dns:example.com"], Excluded = [entry] }, "Authorities:issuing:NameConstraints");

        var problem = Assert.Single(problems);
        Assert.StartsWith("Authorities:issuing:NameConstraints:Excluded:0: " + expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_NoSubtreeAtAll_Named()
    {
        Assert.Equal(["Authorities:issuing:NameConstraints: names no subtree; give Permitted or Excluded entries (dns:NAME, ip:CIDR, email:HOST, uri:HOST), or leave the key out."],
            AuthorityNameConstraints.Problems(new NameConstraintsOptions(), "Authorities:issuing:NameConstraints"));
    }

    [Fact]
    public void Build_EncodesEachSubtree_IpAsAddressAndMask()
    {
        var constraints = AuthorityNameConstraints.Build(Corp)!;
        var sequence = Asn1Sequence.GetInstance(constraints.GetDerEncoded());
        var permitted = Asn1Sequence.GetInstance(Asn1TaggedObject.GetInstance(sequence[0]), false);
        var bases = permitted.Cast<Asn1Encodable>().Select(s => GeneralSubtree.GetInstance(s).Base).ToList();

        Assert.Equal(5, bases.Count);
        Assert.Equal("corp.example.com", DerIA5String.GetInstance(bases[0].Name).GetString());
        // RFC 5280 §4.2.1.10: an IPv4 subtree is the address then the mask, 8 octets.
        Assert.Equal(Convert.FromHexString("0A000000FF000000"), Asn1OctetString.GetInstance(bases[1].Name).GetOctets());
        Assert.Equal(32, Asn1OctetString.GetInstance(bases[2].Name).GetOctets().Length);
        Assert.Equal(1, Asn1TaggedObject.GetInstance(sequence[1]).TagNo);
        Assert.Null(AuthorityNameConstraints.Build(null));
        Assert.Null(AuthorityNameConstraints.Build(new NameConstraintsOptions()));
    }

    [Theory]
    [InlineData("corp.example.com")]
    [InlineData("www.corp.example.com")]
    [InlineData("A.B.CORP.EXAMPLE.COM")]
    public void Violation_DnsWithinPermitted_None(string name) => Assert.Null(Violation(Dns(name)));

    [Fact]
    public void Violation_EachNameLeavingTheSubtrees_SaysWhichAndWhy()
    {
        Assert.Equal("dns:evilcorp.example.com is outside the issuer's permitted subtrees (dns:corp.example.com)", Violation(Dns("evilcorp.example.com")));
        Assert.Equal("dns:example.com is outside the issuer's permitted subtrees (dns:corp.example.com)", Violation(Dns("example.com")));
        Assert.Equal("dns:db.secret.corp.example.com is within the issuer's excluded subtrees (dns:secret.corp.example.com)", Violation(Dns("db.secret.corp.example.com")));
        Assert.Equal("ip:192.168.1.1 is outside the issuer's permitted subtrees (ip:10.0.0.0/8, ip:2001:db8::/32)", Violation(Ip("192.168.1.1")));
        Assert.Equal("ip:10.99.3.4 is within the issuer's excluded subtrees (ip:10.99.0.0/16)", Violation(Ip("10.99.3.4")));
        Assert.Equal("ip:2001:db9::1 is outside the issuer's permitted subtrees (ip:10.0.0.0/8, ip:2001:db8::/32)", Violation(Ip("2001:db9::1")));
        Assert.Equal("email:alice@example.com is outside the issuer's permitted subtrees (email:.corp.example.com, email:pki@example.com)", Violation(Email("alice@example.com")));
        Assert.Null(Violation(Ip("10.1.2.3")));
        Assert.Null(Violation(Ip("2001:db8::1")));
        Assert.Null(Violation(Email("alice@mail.corp.example.com")));
        Assert.Null(Violation(Email("pki@example.com")));
    }

    [Fact]
    public void Violation_Uri_TheHostDecides_AHostOrEveryHostUnderADomain()
    {
        // SPIFFE IDs (the tls-client profile's URIs) under the trust domain prod.example.org, and web URIs under
        // .apps.example.com (its hosts, not the domain itself), one excluded (RFC 5280 §4.2.1.10).
        var uris = AuthorityNameConstraints.Build(new NameConstraintsOptions
        {
            Permitted = ["uri:prod.example.org", "uri:.apps.example.com"],
            Excluded = ["uri:admin.apps.example.com"],
        })!.GetDerEncoded();
        string? Check(string uri) => AuthorityNameConstraints.Violation(uris, new GeneralName(GeneralName.UniformResourceIdentifier, uri));

        Assert.Null(Check("spiffe://prod.example.org/ns/payments/sa/api"));
        Assert.Null(Check("https://shop.apps.example.com/callback"));
        Assert.Null(Check("https://shop.apps.example.com:8443/"));
        Assert.Equal("uri:spiffe://staging.example.org/ns/payments is outside the issuer's permitted subtrees (uri:prod.example.org, uri:.apps.example.com)", Check("spiffe://staging.example.org/ns/payments"));
        Assert.Equal("uri:https://apps.example.com/ is outside the issuer's permitted subtrees (uri:prod.example.org, uri:.apps.example.com)", Check("https://apps.example.com/"));
        Assert.Equal("uri:https://admin.apps.example.com/ is within the issuer's excluded subtrees (uri:admin.apps.example.com)", Check("https://admin.apps.example.com/"));
        Assert.Null(AuthorityNameConstraints.Violation(uris, Dns("anything.example.net")));
    }

    [Fact]
    public void Violation_ATypeTheConstraintsDoNotName_IsFree()
    {
        var dnsOnly = AuthorityNameConstraints.Build(new NameConstraintsOptions { Permitted = ["dns:corp.example.com"] })!.GetDerEncoded();

        Assert.Null(AuthorityNameConstraints.Violation(dnsOnly, Ip("192.168.1.1")));
        Assert.Null(AuthorityNameConstraints.Violation(dnsOnly, Email("alice@example.org")));
        Assert.NotNull(AuthorityNameConstraints.Violation(dnsOnly, Dns("example.org")));
    }

    [Fact]
    public void Preview_NamesOutsideTheIssuersConstraints_AreRefusedInTheSubmissionsWords()
    {
        var profiles = MiniCa.Core.Profiles.ProfileLoader.LoadDirectory(Path.Combine(MiniCa.TestSupport.RepositoryPaths.Root, "policies"));
        var constraints = AuthorityNameConstraints.Build(Corp)!.GetDerEncoded();
        var csr = MiniCa.Unit.Tests.Requests.Csrs.Dns("www.corp.example.com", "db.secret.corp.example.com", "www.example.org");

        var preview = MiniCa.Core.Requests.RequestPreview.Evaluate(profiles, MiniCa.Core.Requests.BlockedKeyLists.None, "tls-server", csr, constraints);

        Assert.Equal(
            [
                "dns:db.secret.corp.example.com is within the issuer's excluded subtrees (dns:secret.corp.example.com)",
                "dns:www.example.org is outside the issuer's permitted subtrees (dns:corp.example.com)",
            ],
            preview.Problems);
        Assert.True(MiniCa.Core.Requests.RequestPreview.Evaluate(profiles, MiniCa.Core.Requests.BlockedKeyLists.None, "tls-server", csr).IsAcceptable);
    }
}
