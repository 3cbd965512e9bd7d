using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>Subscriber certificates MUST NOT carry anyExtendedKeyUsage.</summary>
internal sealed class EkuAnyUsage : CertificateLint
{
    public override string Name => "e_eku_any_usage";

    public override string Citation => "CA/B Forum BR §7.1.2.7.10";

    public override bool Applies(LintContext context) => context.Profile is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.ExtendedKeyUsages.Any(o => o.Equals(KeyPurposeID.AnyExtendedKeyUsage)))
        {
            yield return "extendedKeyUsage contains anyExtendedKeyUsage";
        }
    }
}
