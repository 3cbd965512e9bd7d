using System.Security.Cryptography;
using Org.BouncyCastle.Math;

namespace MiniCa.Core.Serials;

/// <summary>
/// Serial numbers of 127 bits from the operating system's CSPRNG: positive and at most 20 octets
/// (RFC 5280 §4.1.2.2), with far more than the 64 bits of entropy CA/B Forum BR §7.1 requires.
/// </summary>
public sealed class RandomSerialNumberGenerator : ISerialNumberGenerator
{
    /// <summary>Octets of randomness per serial; the top bit is cleared so the DER INTEGER is positive.</summary>
    public const int Octets = 16;

    /// <inheritdoc />
    public BigInteger NewSerial()
    {
        Span<byte> bytes = stackalloc byte[Octets];
        BigInteger serial;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            bytes[0] &= 0x7F;
            serial = new BigInteger(1, bytes.ToArray());
        }
        // A serial with fewer than 64 significant bits is drawn again (probability 2^-63): no short serials.
        while (serial.BitLength < 64);

        return serial;
    }
}
