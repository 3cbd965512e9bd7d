
namespace MiniCa.Core.Linting.Lints;

/// <summary>Serial numbers carry at least 64 bits of output from a CSPRNG.</summary>
internal sealed class SerialLowEntropy : CertificateLint
{
    public override string Name => "e_serial_low_entropy";

    public override string Citation => "CA/B Forum BR §7.1";

    public override IEnumerable<string> Check(LintContext context)
    {
        // 64 bits of CSPRNG output make a serial of at least 64 bits except with probability 2^-63 (MiniCa redraws).
        var bits = context.Certificate.SerialNumber.BitLength;
        if (bits < 64)
        {
            yield return $"the serial number has {bits} significant bits; at least 64 random bits are required";
        }
    }
}
