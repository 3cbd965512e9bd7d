using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>basicConstraints MUST be critical in CA certificates.</summary>
internal sealed class CaBasicConstraintsNotCritical : CertificateLint
{
    public override string Name => "e_ca_basic_constraints_not_critical";

    public override string Citation => "RFC 5280 §4.2.1.9";

    public override bool Applies(LintContext context) => context.IsCa;

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Extension(X509Extensions.BasicConstraints) is { IsCritical: false })
        {
            yield return "basicConstraints of a CA certificate is not marked critical";
        }
    }
}
