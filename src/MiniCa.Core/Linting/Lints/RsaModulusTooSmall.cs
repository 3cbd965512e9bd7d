
namespace MiniCa.Core.Linting.Lints;

/// <summary>RSA moduli are at least 2048 bits.</summary>
internal sealed class RsaModulusTooSmall : CertificateLint
{
    public override string Name => "e_rsa_modulus_too_small";

    public override string Citation => "CA/B Forum BR §6.1.5";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.GetPublicKey() is Org.BouncyCastle.Crypto.Parameters.RsaKeyParameters rsa && rsa.Modulus.BitLength < 2048)
        {
            yield return $"the RSA modulus has {rsa.Modulus.BitLength} bits; at least 2048";
        }
    }
}
