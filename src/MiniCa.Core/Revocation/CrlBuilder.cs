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

    /// <summary>
    /// Writes the TBSCertList into one buffer, entry after entry, with room kept in front for the outer headers
    /// (whose lengths are known only at the end) and behind for the signature: the TBS is signed where it lies and
    /// the complete CRL is copied out once. A CRL of a million revocations costs about twice its encoded size in
    /// memory, not a million-object tree.
    /// </summary>
    /// <param name="header">Issuer, times, number, scope.</param>
    /// <param name="entries">The revoked certificates (read once, in order).</param>
    /// <param name="expectedEntries">How many entries are expected, to size the buffer once (a hint; 0 if unknown).</param>
    public static CrlImage Build(CrlHeader header, IEnumerable<RevokedEntry> entries, int expectedEntries = 0)
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
        var prefixBytes = prefix.Encode();
        var extensions = new AsnWriter(AsnEncodingRules.DER);
        WriteExtensions(extensions, header);
        var extensionBytes = extensions.Encode();

        // Room in front: the TBS and list SEQUENCE headers (at most 6 octets each) and the prefix.
        var front = 6 + prefixBytes.Length + 6;
        // About 50 octets an entry (serial, date, reason); the buffer grows by doubling if the hint was short.
        var buffer = new byte[front + Math.Min(int.MaxValue / 2, Math.Max(256L, expectedEntries * 52L)) + extensionBytes.Length + 64];
        var at = front;
        var fallback = new AsnWriter(AsnEncodingRules.DER);
        foreach (var revoked in entries)
        {
            if (buffer.Length - at < 256 + extensionBytes.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(Array.MaxLength, buffer.Length * 2L));
            }

            var written = WriteEntry(buffer.AsSpan(at), revoked);
            if (written == 0)
            {
                fallback.Reset();
                WriteEntry(fallback, revoked);
                written = fallback.Encode(buffer.AsSpan(at));
            }

            at += written;
        }

        var listLength = at - front;
        // RFC 5280 §5.1.2.6: when there are no revoked certificates the list MUST be absent.
        var listHeader = listLength > 0 ? SequenceHeader(listLength) : [];
        var contentLength = prefixBytes.Length + listHeader.Length + listLength + extensionBytes.Length;
        var tbsHeader = SequenceHeader(contentLength);
        var start = front - listHeader.Length - prefixBytes.Length - tbsHeader.Length;
        tbsHeader.CopyTo(buffer, start);
        prefixBytes.CopyTo(buffer, start + tbsHeader.Length);
        listHeader.CopyTo(buffer, front - listHeader.Length);
        extensionBytes.CopyTo(buffer, at);
        return new CrlImage(buffer, start, tbsHeader.Length + contentLength);
    }

    /// <summary>A SEQUENCE tag and DER length (X.690 §8.1.3) for <paramref name="length"/> content octets.</summary>
    internal static byte[] SequenceHeader(long length)
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

    /// <summary>
    /// Writes one revokedCertificates entry straight into <paramref name="destination"/> (DER, X.690 §10) and returns
    /// its length, or 0 for the rare entry it leaves to <see cref="AsnWriter"/> (an invalidity date).
    /// </summary>
    private static int WriteEntry(Span<byte> destination, RevokedEntry entry)
    {
        if (entry.InvalidityDate is not null)
        {
            return 0;
        }

        var hex = entry.SerialHex.AsSpan();
        Span<byte> raw = stackalloc byte[32];
        if (hex.Length is 0 or > 62)
        {
            return 0;
        }

        int rawLength;
        if (hex.Length % 2 == 1)
        {
            Span<char> even = stackalloc char[hex.Length + 1];
            even[0] = '0';
            hex.CopyTo(even[1..]);
            if (Convert.FromHexString(even, raw, out _, out rawLength) != System.Buffers.OperationStatus.Done)
            {
                return 0;
            }
        }
        else if (Convert.FromHexString(hex, raw, out _, out rawLength) != System.Buffers.OperationStatus.Done)
        {
            return 0;
        }

        // INTEGER content (X.690 §8.3): minimal, unsigned (a 0x00 in front of a high first bit).
        var serial = raw[..rawLength];
        while (serial.Length > 1 && serial[0] == 0 && serial[1] < 0x80)
        {
            serial = serial[1..];
        }

        var pad = serial[0] >= 0x80 ? 1 : 0;
        var time = WholeSeconds(entry.RevokedAt);
        var generalized = time.Year >= 2050;
        var timeLength = generalized ? 15 : 13;
        var reason = entry.Reason != RevocationReason.Unspecified ? ReasonExtensions[entry.Reason] : null;
        var extensionsLength = reason is null ? 0 : 2 + reason.Length;
        var contentLength = 2 + pad + serial.Length + 2 + timeLength + extensionsLength;
        if (contentLength >= 0x80 || reason is { Length: >= 0x80 })
        {
            return 0;
        }

        var at = 0;
        destination[at++] = 0x30;
        destination[at++] = (byte)contentLength;
        destination[at++] = 0x02;
        destination[at++] = (byte)(pad + serial.Length);
        if (pad == 1)
        {
            destination[at++] = 0x00;
        }

        serial.CopyTo(destination[at..]);
        at += serial.Length;
        destination[at++] = generalized ? (byte)0x18 : (byte)0x17;
        destination[at++] = (byte)timeLength;
        var utc = time.UtcDateTime;
        if (generalized)
        {
            at += WriteDigits(destination[at..], utc.Year, 4);
        }
        else
        {
            at += WriteDigits(destination[at..], utc.Year % 100, 2);
        }

        at += WriteDigits(destination[at..], utc.Month, 2);
        at += WriteDigits(destination[at..], utc.Day, 2);
        at += WriteDigits(destination[at..], utc.Hour, 2);
        at += WriteDigits(destination[at..], utc.Minute, 2);
        at += WriteDigits(destination[at..], utc.Second, 2);
        destination[at++] = (byte)'Z';
        if (reason is not null)
        {
            destination[at++] = 0x30;
            destination[at++] = (byte)reason.Length;
            reason.CopyTo(destination[at..]);
            at += reason.Length;
        }

        return at;
    }

    private static int WriteDigits(Span<byte> destination, int value, int digits)
    {
        for (var i = digits - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }

        return digits;
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

/// <summary>
/// A TBSCertList written in place by <see cref="CrlBuilder.Build"/>: sign <see cref="Tbs"/> where it lies, then
/// <see cref="Complete"/> copies out the CertificateList once.
/// </summary>
public sealed class CrlImage
{
    private readonly byte[] _buffer;
    private readonly int _start;
    private readonly int _length;

    internal CrlImage(byte[] buffer, int start, int length)
    {
        _buffer = buffer;
        _start = start;
        _length = length;
    }

    /// <summary>The DER TBSCertList.</summary>
    public ReadOnlySpan<byte> Tbs => _buffer.AsSpan(_start, _length);

    /// <summary>The complete CertificateList: the TBS, the algorithm and <paramref name="signature"/> (RFC 5280 §5.1.1).</summary>
    public byte[] Complete(SignatureAlgorithm algorithm, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var algorithmDer = SignatureAlgorithms.Identifier(algorithm).GetDerEncoded();
        var bitString = new AsnWriter(AsnEncodingRules.DER);
        bitString.WriteBitString(signature);
        var signatureDer = bitString.Encode();
        var header = CrlBuilder.SequenceHeader((long)_length + algorithmDer.Length + signatureDer.Length);
        var der = new byte[header.Length + _length + algorithmDer.Length + signatureDer.Length];
        header.CopyTo(der, 0);
        var at = header.Length;
        Tbs.CopyTo(der.AsSpan(at));
        at += _length;
        algorithmDer.CopyTo(der, at);
        signatureDer.CopyTo(der, at + algorithmDer.Length);
        return der;
    }
}
