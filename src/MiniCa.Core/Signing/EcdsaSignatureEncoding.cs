using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Math;

namespace MiniCa.Core.Signing;

/// <summary>Converts between PKCS#11's raw ECDSA output and the DER form X.509 carries.</summary>
public static class EcdsaSignatureEncoding
{
    /// <summary>
    /// Turns PKCS#11's <c>r‖s</c> (each half the size of the curve order, PKCS#11 v2.40 §2.3.1) into
    /// <c>Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }</c> (RFC 3279 §2.2.3).
    /// </summary>
    public static byte[] RawToDer(ReadOnlySpan<byte> raw)
    {
        if (raw.Length == 0 || raw.Length % 2 != 0)
        {
            throw new ArgumentException($"A raw ECDSA signature has an even, non-zero length; got {raw.Length} bytes.", nameof(raw));
        }

        var half = raw.Length / 2;
        var r = new BigInteger(1, raw[..half].ToArray());
        var s = new BigInteger(1, raw[half..].ToArray());
        return new DerSequence(new DerInteger(r), new DerInteger(s)).GetDerEncoded();
    }
}
