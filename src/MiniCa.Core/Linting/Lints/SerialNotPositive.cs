
namespace MiniCa.Core.Linting.Lints;

/// <summary>The serial number MUST be a positive integer.</summary>
internal sealed class SerialNotPositive : CertificateLint
{
    public override string Name => "e_serial_not_positive";

    public override string Citation => "RFC 5280 §4.1.2.2";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.SerialNumber.SignValue <= 0)
        {
            yield return $"the serial number {context.Certificate.SerialNumber} is not positive";
        }
    }
}
