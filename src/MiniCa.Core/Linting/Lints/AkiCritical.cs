using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>Conforming CAs MUST mark the AKI non-critical.</summary>
internal sealed class AkiCritical : CertificateLint
{
    public override string Name => "e_aki_critical";

    public override string Citation => "RFC 5280 §4.2.1.1";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Extension(X509Extensions.AuthorityKeyIdentifier) is { IsCritical: true })
        {
            yield return "authorityKeyIdentifier is marked critical";
        }
    }
}
