using MiniCa.Core.Revocation;
using MiniCa.Core.Signing;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;

namespace MiniCa.Unit.Tests.Revocation;

/// <summary>
/// The CRL writer encodes entries by hand (for speed); BouncyCastle, an independent DER parser, must read back
/// exactly what went in, across serial lengths and high bits, odd-length hex, every reason, both time types and
/// the invalidity-date extension (which takes the general writer).
/// </summary>
public sealed class CrlBuilderTests
{
    private static readonly CrlHeader Header = new()
    {
        IssuerNameDer = new X509Name("CN=Test CA").GetDerEncoded(),
        IssuerKeyId = [1, 2, 3, 4],
        SignatureAlgorithm = SignatureAlgorithm.EcdsaSha256,
        ThisUpdate = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero),
        NextUpdate = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
        Number = 7,
        DistributionPoint = "http://ca.example.test/crl/issuing.crl",
        Scope = CrlScope.UserCertificates,
    };

    [Fact]
    public void Build_Entries_ReadBackByBouncyCastleAsWritten()
    {
        var random = new Random(5280);
        var entries = new List<RevokedEntry>
        {
            new("1", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), RevocationReason.Unspecified, null),
            new("80", new DateTimeOffset(2049, 12, 31, 23, 59, 59, TimeSpan.Zero), RevocationReason.KeyCompromise, null),
            new("abc", new DateTimeOffset(2050, 1, 1, 0, 0, 0, TimeSpan.Zero), RevocationReason.Superseded, null),
            new("00ff", new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.FromHours(2)), RevocationReason.CessationOfOperation, null),
            new("7f" + new string('e', 38), new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), RevocationReason.PrivilegeWithdrawn, new DateTimeOffset(2026, 5, 30, 0, 0, 0, TimeSpan.Zero)),
        };
        foreach (var reason in Enum.GetValues<RevocationReason>())
        {
            var serial = new byte[random.Next(1, 21)];
            random.NextBytes(serial);
            entries.Add(new RevokedEntry(Convert.ToHexStringLower(serial), new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero).AddSeconds(random.Next(1_000_000)), reason, null));
        }

        var tbs = TbsCertificateList.GetInstance(Asn1Object.FromByteArray(CrlBuilder.Build(Header, entries, entries.Count).Tbs.ToArray()));

        var read = tbs.GetRevokedCertificates();
        Assert.Equal(entries.Count, read.Length);
        for (var i = 0; i < entries.Count; i++)
        {
            var expected = entries[i];
            Assert.Equal(new BigInteger(expected.SerialHex, 16), read[i].UserCertificate.Value);
            Assert.Equal(expected.RevokedAt.UtcDateTime.AddTicks(-(expected.RevokedAt.UtcTicks % TimeSpan.TicksPerSecond)), read[i].RevocationDate.ToDateTime());
            // RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050.
            Assert.Equal(expected.RevokedAt.UtcDateTime.Year >= 2050, read[i].RevocationDate.ToAsn1Object() is Asn1GeneralizedTime);
            var reason = read[i].Extensions?.GetExtension(X509Extensions.ReasonCode);
            if (expected.Reason == RevocationReason.Unspecified)
            {
                Assert.Null(reason);
            }
            else
            {
                Assert.Equal((int)expected.Reason, DerEnumerated.GetInstance(reason!.GetParsedValue()).IntValueExact);
            }

            Assert.Equal(expected.InvalidityDate is not null, read[i].Extensions?.GetExtension(X509Extensions.InvalidityDate) is not null);
        }

        // The whole CertificateList is well formed around a signature.
        var der = CrlBuilder.Build(Header, entries, 0).Complete(SignatureAlgorithm.EcdsaSha256, [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]);
        var list = CertificateList.GetInstance(Asn1Object.FromByteArray(der));
        Assert.Equal(entries.Count, list.GetRevokedCertificates().Length);
        Assert.Equal(7, DerInteger.GetInstance(list.TbsCertList.Extensions.GetExtension(X509Extensions.CrlNumber).GetParsedValue()).IntValueExact);
    }

    [Fact]
    public void Build_NoEntries_OmitsTheList()
    {
        var tbs = TbsCertificateList.GetInstance(Asn1Object.FromByteArray(CrlBuilder.Build(Header, []).Tbs.ToArray()));

        Assert.Empty(tbs.GetRevokedCertificates());
        Assert.Equal(7, DerInteger.GetInstance(tbs.Extensions.GetExtension(X509Extensions.CrlNumber).GetParsedValue()).IntValueExact);
    }
}
