using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>Subscriber certificates for identifiers MUST carry a subjectAltName.</summary>
internal sealed class SanMissing : CertificateLint
{
    public override string Name => "e_san_missing";

    public override string Citation => "CA/B Forum BR §7.1.2.7.12";

    public override bool Applies(LintContext context) => context.Profile is { Identifiers.Required: true };

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Extension(X509Extensions.SubjectAlternativeName) is null)
        {
            yield return "subjectAltName is missing but the profile certifies identifiers";
        }
    }
}
