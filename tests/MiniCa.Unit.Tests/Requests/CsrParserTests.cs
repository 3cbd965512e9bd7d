using MiniCa.Core.Identifiers;
using MiniCa.Core.Requests;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Unit.Tests.Requests;

public sealed class CsrParserTests
{
    [Fact]
    public void Parse_PemAndDer_GiveTheSameRequest()
    {
        var der = Csrs.Dns("www.example.com", "Api.Example.com");

        var fromDer = CsrParser.Parse(der);
        var fromPem = CsrParser.Parse(Csrs.Pem(der));

        Assert.True(fromDer.IsValid, string.Join("; ", fromDer.Problems));
        Assert.True(fromPem.IsValid, string.Join("; ", fromPem.Problems));
        Assert.Equal(der, fromPem.Csr!.Der);
        Assert.Equal([new Identifier(IdentifierType.Dns, "www.example.com"), new Identifier(IdentifierType.Dns, "api.example.com")], fromDer.Csr!.Identifiers);
        Assert.Equal("www.example.com", fromDer.Csr.CommonName);
        Assert.Equal("EC P-256", fromDer.Csr.KeyDescription);
    }

    [Fact]
    public void Parse_AllSanTypes_AreReadAndNormalised()
    {
        var der = Csrs.Der("CN=x", [
            new GeneralName(GeneralName.DnsName, "WWW.Example.COM"),
            new GeneralName(GeneralName.IPAddress, "10.1.2.3"),
            new GeneralName(GeneralName.IPAddress, "2001:db8::1"),
            new GeneralName(GeneralName.Rfc822Name, "Alice@Example.COM"),
            new GeneralName(GeneralName.UniformResourceIdentifier, "spiffe://example.org/svc"),
        ]);

        var csr = CsrParser.Parse(der).Csr!;

        Assert.Equal(
            ["dns:www.example.com", "ip:10.1.2.3", "ip:2001:db8::1", "email:Alice@example.com", "uri:spiffe://example.org/svc"],
            csr.Identifiers.Select(i => i.ToString()));
    }

    [Fact]
    public void Parse_BadSignature_IsRejected()
    {
        var result = CsrParser.Parse(Csrs.Tampered(Csrs.Dns("www.example.com")));

        Assert.False(result.IsValid);
        Assert.Contains("the CSR's signature does not verify with its public key (proof of possession failed)", result.Problems);
    }

    [Fact]
    public void Parse_WeakRsaKey_IsRejectedWithItsSize()
    {
        var result = CsrParser.Parse(Csrs.Der("CN=www.example.com", key: Csrs.Rsa(1024)));

        Assert.Contains("the RSA key has 1024 bits; at least 2048 are required (BR §6.1.5)", result.Problems);
    }

    [Fact]
    public void Parse_RsaExponent3_IsRejected()
    {
        var result = CsrParser.Parse(Csrs.Der("CN=www.example.com", key: Csrs.Rsa(2048, 3)));

        Assert.Contains("the RSA public exponent is 3; only 65537 is accepted", result.Problems);
    }

    [Fact]
    public void Parse_UnsupportedCurve_IsRejected()
    {
        var result = CsrParser.Parse(Csrs.Der("CN=www.example.com", key: Csrs.Ec("secp256k1")));

        Assert.Contains(result.Problems, p => p.Contains("only P-256, P-384 and P-521 are accepted", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new byte[0], "the CSR is empty")]
    [InlineData(new byte[] { 0x30, 0x03, 0x02, 0x01, 0x01 }, "the input is not a PKCS#10 certificate request (PEM or DER)")]
    [InlineData(new byte[] { 0x68, 0x65, 0x6c, 0x6c, 0x6f }, "the input is neither DER nor PEM")]
    public void Parse_Garbage_IsRejectedWithOneReason(byte[] input, string reason)
    {
        var result = CsrParser.Parse(input);

        Assert.Null(result.Csr);
        Assert.Equal([reason], result.Problems);
    }

    [Fact]
    public void Parse_TenMegabytes_IsRejectedBeforeParsing()
    {
        var result = CsrParser.Parse(new byte[10 * 1024 * 1024]);

        Assert.Equal(["the CSR is 10485760 bytes; at most 65536 are accepted"], result.Problems);
    }

    [Fact]
    public void Parse_PemOfAnotherKind_NamesTheLabel()
    {
        var result = CsrParser.Parse("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"u8.ToArray());

        Assert.Equal(["the PEM block is 'CERTIFICATE', not 'CERTIFICATE REQUEST'"], result.Problems);
    }

    [Fact]
    public void Parse_BadIpLengthAndOtherNameSan_AreEachReported()
    {
        var der = Csrs.Der("CN=x", [
            new GeneralName(GeneralName.IPAddress, new DerOctetString(new byte[5])),
            new GeneralName(GeneralName.DirectoryName, new X509Name("CN=dir")),
        ]);

        var result = CsrParser.Parse(der);

        Assert.Contains("an iPAddress name has 5 octets (4 or 16 expected)", result.Problems);
        Assert.Contains("subjectAltName of type 4 is not supported (DNS, IP, email and URI are)", result.Problems);
    }
}
