using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>keyUsage is critical.</summary>
internal sealed class KeyUsageNotCritical : CertificateLint
{
    public override string Name => "e_key_usage_not_critical";

    public override string Citation => "RFC 5280 §4.2.1.3; CA/B Forum BR §7.1.2.7.11";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Extension(X509Extensions.KeyUsage) is { IsCritical: false })
        {
            yield return "keyUsage is not marked critical";
        }
    }
}
