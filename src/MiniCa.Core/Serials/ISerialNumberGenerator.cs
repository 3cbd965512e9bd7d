using Org.BouncyCastle.Math;

namespace MiniCa.Core.Serials;

/// <summary>The one source of certificate serial numbers.</summary>
public interface ISerialNumberGenerator
{
    /// <summary>A new positive serial number of at most 20 octets.</summary>
    BigInteger NewSerial();
}
