
namespace MiniCa.Core.Linting.Lints;

/// <summary>RSA public exponents are odd and between 2^16+1 and 2^256-1.</summary>
internal sealed class RsaExponentInvalid : CertificateLint
{
    public override string Name => "e_rsa_exponent_invalid";

    public override string Citation => "CA/B Forum BR §6.1.6";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.GetPublicKey() is Org.BouncyCastle.Crypto.Parameters.RsaKeyParameters rsa)
        {
            var e = rsa.Exponent;
            if (!e.TestBit(0) || e.BitLength < 17 || e.BitLength > 256)
            {
                yield return $"the RSA public exponent {e} is not an odd number in [2^16+1, 2^256-1]";
            }
        }
    }
}
