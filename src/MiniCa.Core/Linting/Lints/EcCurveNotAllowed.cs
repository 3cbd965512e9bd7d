
namespace MiniCa.Core.Linting.Lints;

/// <summary>EC keys use the named curves P-256, P-384 or P-521.</summary>
internal sealed class EcCurveNotAllowed : CertificateLint
{
    public override string Name => "e_ec_curve_not_allowed";

    public override string Citation => "CA/B Forum BR §6.1.5";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.GetPublicKey() is Org.BouncyCastle.Crypto.Parameters.ECPublicKeyParameters ec
            && (ec.PublicKeyParamSet is null || Requests.CsrParser.CurveName(ec.PublicKeyParamSet) is null))
        {
            yield return $"the EC key is on {(ec.PublicKeyParamSet?.Id ?? "explicit parameters")}; only named P-256, P-384 and P-521";
        }
    }
}
