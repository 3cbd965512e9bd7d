using System.Formats.Asn1;
using MiniCa.Core.Signing;

namespace MiniCa.Core.Revocation;

/// <summary>One revoked certificate on a CRL.</summary>
/// <param name="SerialHex">Serial as hex.</param>
/// <param name="RevokedAt">revocationDate.</param>
/// <param name="Reason">reasonCode (omitted when unspecified, RFC 5280 §5.3.1).</param>
/// <param name="InvalidityDate">invalidityDate entry extension (RFC 5280 §5.3.2), if known.</param>
public readonly record struct RevokedEntry(string SerialHex, DateTimeOffset RevokedAt, RevocationReason Reason, DateTimeOffset? InvalidityDate);

/// <summary>What goes around the entries of a CRL.</summary>
public sealed record CrlHeader
{
    /// <summary>The issuer's subject name, DER.</summary>
    public required byte[] IssuerNameDer { get; init; }

    /// <summary>The issuer's subject key identifier, for the AKI extension (RFC 5280 §5.2.1: MUST).</summary>
    public required byte[] IssuerKeyId { get; init; }

    /// <summary>The signature algorithm.</summary>
    public required SignatureAlgorithm SignatureAlgorithm { get; init; }

    /// <summary>thisUpdate.</summary>
    public required DateTimeOffset ThisUpdate { get; init; }

    /// <summary>nextUpdate (RFC 5280 §5.1.2.5: conforming CAs MUST include it).</summary>
    public required DateTimeOffset NextUpdate { get; init; }

    /// <summary>cRLNumber (RFC 5280 §5.2.3: MUST, monotonically increasing).</summary>
    public required long Number { get; init; }

    /// <summary>
    /// Distribution point URL named in the issuingDistributionPoint extension (RFC 5280 §5.2.5), or
    /// <see langword="null"/> to name none. Relying parties (OpenSSL among them) then require every certificate
    /// the CRL is checked for to carry a matching CRL DP, which a root certificate does not.
    /// </summary>
    public string? DistributionPoint { get; init; }

    /// <summary>Whether the CRL covers only end-entity certificates (onlyContainsUserCerts) or only CA certificates (onlyContainsCACerts).</summary>
    public required CrlScope Scope { get; init; }

    /// <summary>For a delta CRL, the cRLNumber of its base (DeltaCRLIndicator, RFC 5280 §5.2.4); otherwise <see langword="null"/>.</summary>
    public long? BaseCrlNumber { get; init; }

    /// <summary>Where delta CRLs are published (Freshest CRL, RFC 5280 §5.2.6); set on complete CRLs when deltas exist.</summary>
    public string? FreshestCrl { get; init; }
}

/// <summary>Which certificates a CRL covers.</summary>
public enum CrlScope
{
    /// <summary>End-entity certificates (an issuing CA's CRL).</summary>
    UserCertificates,

    /// <summary>CA certificates (a root's CRL).</summary>
    CaCertificates,
}

/// <summary>
/// Writes a TBSCertList (RFC 5280 §5.1) straight into one DER buffer, entry after entry, so a CRL of a million
/// revocations costs its encoded size in memory rather than a million-object tree.
/// </summary>
public static class CrlBuilder
{
    private const string ReasonCodeOid = "2.5.29.21";
    private const string InvalidityDateOid = "2.5.29.24";
    private const string CrlNumberOid = "2.5.29.20";
    private const string AuthorityKeyIdOid = "2.5.29.35";
    private const string IssuingDistributionPointOid = "2.5.29.28";
    private const string DeltaCrlIndicatorOid = "2.5.29.27";
    private const string FreshestCrlOid = "2.5.29.46";

    /// <summary>The DER TBSCertList of <paramref name="header"/> and <paramref name="entries"/> (read once, in order).</summary>
    /// <param name="header">Issuer, times, number, scope.</param>
    /// <param name="entries">The revoked certificates.</param>
    /// <param name="expectedEntries">How many entries are expected, to size the buffer once (a hint; 0 if unknown).</param>
    public static byte[] BuildTbs(CrlHeader header, IEnumerable<RevokedEntry> entries, int expectedEntries = 0)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(entries);

        var prefix = new AsnWriter(AsnEncodingRules.DER);
        // version v2 (RFC 5280 §5.1.2.1: MUST be v2 when extensions are present).
        prefix.WriteInteger(1);
        prefix.WriteEncodedValue(SignatureAlgorithms.Identifier(header.SignatureAlgorithm).GetDerEncoded());
        prefix.WriteEncodedValue(header.IssuerNameDer);
        WriteTime(prefix, header.ThisUpdate);
        WriteTime(prefix, header.NextUpdate);

        // Entries are encoded one at a time into a growing buffer; only the outer lengths are written at the end.
        // (AsnWriter grows its buffer in fixed steps, which makes one writer for a million entries quadratic.)
        // About 50 octets an entry (serial, date, reason); sized once, the buffer is not copied while it grows.
        using var list = new MemoryStream(capacity: (int)Math.Min(int.MaxValue / 2, Math.Max(256L, expectedEntries * 56L)));
        var entry = new AsnWriter(AsnEncodingRules.DER);
        Span<byte> encoded = stackalloc byte[256];
        var any = false;
        foreach (var revoked in entries)
        {
            entry.Reset();
            WriteEntry(entry, revoked);
            list.Write(encoded[..entry.Encode(encoded)]);
            any = true;
        }

        var extensions = new AsnWriter(AsnEncodingRules.DER);
        WriteExtensions(extensions, header);

        var prefixBytes = prefix.Encode();
        var extensionBytes = extensions.Encode();
        // RFC 5280 §5.1.2.6: when there are no revoked certificates the list MUST be absent.
        var listHeader = any ? SequenceHeader(list.Length) : [];
        var contentLength = prefixBytes.Length + listHeader.Length + list.Length + extensionBytes.Length;
        var outer = SequenceHeader(contentLength);
        var tbs = new byte[outer.Length + contentLength];
        var at = 0;
        foreach (var part in new[] { outer, prefixBytes, listHeader })
        {
            part.CopyTo(tbs, at);
            at += part.Length;
        }

        list.GetBuffer().AsSpan(0, (int)list.Length).CopyTo(tbs.AsSpan(at));
        at += (int)list.Length;
        extensionBytes.CopyTo(tbs, at);
        return tbs;
    }

    /// <summary>A SEQUENCE tag and DER length (X.690 §8.1.3) for <paramref name="length"/> content octets.</summary>
    private static byte[] SequenceHeader(long length)
    {
        if (length < 0x80)
        {
            return [0x30, (byte)length];
        }

        var octets = 0;
        for (var rest = length; rest > 0; rest >>= 8)
        {
            octets++;
        }

        var header = new byte[2 + octets];
        header[0] = 0x30;
        header[1] = (byte)(0x80 | octets);
        for (var i = 0; i < octets; i++)
        {
            header[2 + i] = (byte)(length >> (8 * (octets - 1 - i)));
        }

        return header;
    }

    private static void WriteExtensions(AsnWriter writer, CrlHeader header)
    {
        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
        using (writer.PushSequence())
        {
            // authorityKeyIdentifier (RFC 5280 §5.2.1).
            WriteExtension(writer, AuthorityKeyIdOid, critical: false, inner =>
            {
                using (inner.PushSequence())
                {
                    inner.WriteOctetString(header.IssuerKeyId, new Asn1Tag(TagClass.ContextSpecific, 0));
                }
            });

            // cRLNumber (RFC 5280 §5.2.3).
            WriteExtension(writer, CrlNumberOid, critical: false, inner => inner.WriteInteger(header.Number));

            // issuingDistributionPoint, critical (RFC 5280 §5.2.5).
            WriteExtension(writer, IssuingDistributionPointOid, critical: true, inner =>
            {
                using (inner.PushSequence())
                {
                    if (header.DistributionPoint is { } url)
                    {
                        using (inner.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                        using (inner.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                        {
                            inner.WriteCharacterString(UniversalTagNumber.IA5String, url, new Asn1Tag(TagClass.ContextSpecific, 6));
                        }
                    }

                    inner.WriteBoolean(true, new Asn1Tag(TagClass.ContextSpecific, header.Scope == CrlScope.UserCertificates ? 1 : 2));
                }
            });

            if (header.BaseCrlNumber is { } baseNumber)
            {
                // deltaCRLIndicator, critical (RFC 5280 §5.2.4).
                WriteExtension(writer, DeltaCrlIndicatorOid, critical: true, inner => inner.WriteInteger(baseNumber));
            }
            else if (header.FreshestCrl is { } freshest)
            {
                // freshestCRL, non-critical (RFC 5280 §5.2.6): where this complete CRL's deltas are.
                WriteExtension(writer, FreshestCrlOid, critical: false, inner =>
                {
                    using (inner.PushSequence())
                    using (inner.PushSequence())
                    using (inner.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                    using (inner.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                    {
                        inner.WriteCharacterString(UniversalTagNumber.IA5String, freshest, new Asn1Tag(TagClass.ContextSpecific, 6));
                    }
                });
            }
        }
    }

    /// <summary>The complete CertificateList: the TBS, the algorithm and the signature made over the TBS.</summary>
    public static byte[] Assemble(byte[] tbsDer, SignatureAlgorithm algorithm, byte[] signature)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER, initialCapacity: tbsDer.Length + 256);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(tbsDer);
            writer.WriteEncodedValue(SignatureAlgorithms.Identifier(algorithm).GetDerEncoded());
            writer.WriteBitString(signature);
        }

        return writer.Encode();
    }

    private static void WriteEntry(AsnWriter writer, RevokedEntry entry)
    {
        using (writer.PushSequence())
        {
            var hex = entry.SerialHex;
            writer.WriteIntegerUnsigned(Convert.FromHexString(hex.Length % 2 == 0 ? hex : "0" + hex));
            WriteTime(writer, entry.RevokedAt);
            if (entry.Reason != RevocationReason.Unspecified || entry.InvalidityDate is not null)
            {
                using (writer.PushSequence())
                {
                    if (entry.Reason != RevocationReason.Unspecified)
                    {
                        writer.WriteEncodedValue(ReasonExtensions[entry.Reason]);
                    }

                    if (entry.InvalidityDate is { } invalidity)
                    {
                        // RFC 5280 §5.3.2: invalidityDate is always GeneralizedTime.
                        WriteExtension(writer, InvalidityDateOid, critical: false, inner => inner.WriteGeneralizedTime(WholeSeconds(invalidity), omitFractionalSeconds: true));
                    }
                }
            }
        }
    }

    /// <summary>The reasonCode entry extension of each reason, encoded once (it is the same bytes on every entry).</summary>
    private static readonly Dictionary<RevocationReason, byte[]> ReasonExtensions = Enum.GetValues<RevocationReason>().ToDictionary(
        reason => reason,
        reason =>
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            WriteExtension(writer, ReasonCodeOid, critical: false, inner => inner.WriteEnumeratedValue(reason));
            return writer.Encode();
        });

    private static void WriteExtension(AsnWriter writer, string oid, bool critical, Action<AsnWriter> value)
    {
        var inner = new AsnWriter(AsnEncodingRules.DER);
        value(inner);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            if (critical)
            {
                writer.WriteBoolean(true);
            }

            writer.WriteOctetString(inner.Encode());
        }
    }

    /// <summary>UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §5.1.2.4, §4.1.2.5), whole seconds.</summary>
    private static void WriteTime(AsnWriter writer, DateTimeOffset time)
    {
        var value = WholeSeconds(time);
        if (value.Year < 2050)
        {
            writer.WriteUtcTime(value, 2049);
        }
        else
        {
            writer.WriteGeneralizedTime(value, omitFractionalSeconds: true);
        }
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset value) => Authorities.AuthorityCertificateBuilder.WholeSeconds(value);
}
