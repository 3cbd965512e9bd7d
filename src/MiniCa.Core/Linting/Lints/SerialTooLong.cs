
namespace MiniCa.Core.Linting.Lints;

/// <summary>Conforming CAs MUST NOT use serial numbers longer than 20 octets.</summary>
internal sealed class SerialTooLong : CertificateLint
{
    public override string Name => "e_serial_too_long";

    public override string Citation => "RFC 5280 §4.1.2.2";

    public override IEnumerable<string> Check(LintContext context)
    {
        var octets = context.Certificate.SerialNumber.ToByteArray().Length;
        if (octets > 20)
        {
            yield return $"the serial number is {octets} octets long; at most 20 are allowed";
        }
    }
}
