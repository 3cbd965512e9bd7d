using MiniCa.Core.Ledger;
using MiniCa.Core.Signing;

namespace MiniCa.Unit.Tests.Ledger;

/// <summary>
/// The signed anchor's bytes and its text in the audit log. Its signature is made and checked with the HSM's key in
/// <c>CliAuditTests</c> (and by OpenSSL there, apart from this code).
/// </summary>
public sealed class SignedAuditAnchorTests
{
    private static readonly AuditAnchor Anchor = new(42, "23ad6567430df11091d5f74200176a0cfdfa3374298ddfbca08a2318e45ff015");

    private static readonly DateTimeOffset SignedAt = new DateTimeOffset(2025, 12, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1_234_560);

    private static readonly SignedAuditAnchor Sample = new(Anchor, SignedAt, "audit", new string('a', 64), SignatureAlgorithm.EcdsaSha256, [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]);

    [Fact]
    public void SignedBytes_AreTheReadmesLayout()
    {
        // Built with Python's struct from the README's words: the text, the id, the hash, the microseconds.
        Assert.Equal(
            "4d696e69436120617564697420616e63686f72207631000000000000002a23ad6567430df11091d5f74200176a0cfdfa3374298ddfbca08a2318e45ff015000644d8a90d8240",
            Convert.ToHexStringLower(SignedAuditAnchor.SignedBytes(Anchor, SignedAt)));
    }

    [Fact]
    public void SignedBytes_EachPartCounts()
    {
        var bytes = Convert.ToHexStringLower(SignedAuditAnchor.SignedBytes(Anchor, SignedAt));
        Assert.NotEqual(bytes, Convert.ToHexStringLower(SignedAuditAnchor.SignedBytes(Anchor with { EventId = 43 }, SignedAt)));
        Assert.NotEqual(bytes, Convert.ToHexStringLower(SignedAuditAnchor.SignedBytes(Anchor with { Hash = new string('0', 64) }, SignedAt)));
        Assert.NotEqual(bytes, Convert.ToHexStringLower(SignedAuditAnchor.SignedBytes(Anchor, SignedAt.AddTicks(10))));
    }

    [Fact]
    public void ToString_ParsesBackToTheSameAnchor()
    {
        var text = Sample.ToString();

        Assert.Equal($"anchor=42:{Anchor.Hash} signed-at=2025-12-01T00:00:00.123456Z key=audit key-sha256={new string('a', 64)} algorithm=EcdsaSha256 signature=MAYCAQECAQI=", text);
        var parsed = SignedAuditAnchor.Parse(text, out var problem);
        Assert.Null(problem);
        Assert.NotNull(parsed);
        Assert.Equal(Sample.Anchor, parsed.Anchor);
        Assert.Equal(Sample.SignedAt, parsed.SignedAt);
        Assert.Equal(Sample.KeyName, parsed.KeyName);
        Assert.Equal(Sample.KeySha256, parsed.KeySha256);
        Assert.Equal(Sample.Algorithm, parsed.Algorithm);
        Assert.Equal(Sample.Signature, parsed.Signature);
    }

    public static TheoryData<string, string> Broken()
    {
        var good = Sample.ToString();
        return new TheoryData<string, string>
        {
            { string.Empty, "no anchor=ID:HASH" },
            { "certificate 0a1b was issued", "'certificate' is not a NAME=VALUE field" },
            { good.Replace("anchor=42:", "anchor=42;", StringComparison.Ordinal), "no anchor=ID:HASH" },
            { good.Replace("00.123456Z", "00Z", StringComparison.Ordinal), "no signed-at=yyyy-MM-ddTHH:mm:ss.ffffffZ" },
            { good.Replace("key=audit ", "key= ", StringComparison.Ordinal), "no key=NAME" },
            { good.Replace(new string('a', 64), new string('A', 64), StringComparison.Ordinal), "no key-sha256= of 64 lowercase hex digits" },
            { good.Replace("EcdsaSha256", "Md5WithRsa", StringComparison.Ordinal), "no algorithm= of a known signature algorithm" },
            { good.Replace("EcdsaSha256", "0", StringComparison.Ordinal), "no algorithm= of a known signature algorithm" },
            { good.Replace("MAYCAQECAQI=", "not*base64", StringComparison.Ordinal), "no signature=BASE64" },
            { good.Replace("signature=MAYCAQECAQI=", "signature=", StringComparison.Ordinal), "no signature=BASE64" },
            { good + " key=audit", "the field key is there twice" },
            { good + " note=x", "fields other than anchor, signed-at, key, key-sha256, algorithm and signature: note" },
        };
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void Parse_NotASignedAnchor_SaysWhatIsMissing(string details, string expected)
    {
        Assert.Null(SignedAuditAnchor.Parse(details, out var problem));
        Assert.Equal(expected, problem);
    }

    [Fact]
    public void Verifier_AKeyNeitherEcNorRsa_IsRefusedNamingIt()
    {
        var ed25519 = new Org.BouncyCastle.Asn1.X509.SubjectPublicKeyInfo(
            new Org.BouncyCastle.Asn1.X509.AlgorithmIdentifier(Org.BouncyCastle.Asn1.EdEC.EdECObjectIdentifiers.id_Ed25519), new byte[32]);

        var error = Assert.Throws<MiniCa.Core.Errors.CaException>(() => new AuditAnchorVerifier(ed25519));

        Assert.Equal(MiniCa.Core.Errors.CaErrorKind.Malformed, error.Kind);
        Assert.StartsWith("The audit key (SHA-256 ", error.Message, StringComparison.Ordinal);
        Assert.Contains(") is not an EC or RSA public key this platform reads: ", error.Message, StringComparison.Ordinal);
    }
}
