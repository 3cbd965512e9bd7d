using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>CA certificates MUST carry a subjectKeyIdentifier.</summary>
internal sealed class CaSkiMissing : CertificateLint
{
    public override string Name => "e_ca_ski_missing";

    public override string Citation => "RFC 5280 §4.2.1.2";

    public override bool Applies(LintContext context) => context.IsCa;

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Extension(X509Extensions.SubjectKeyIdentifier) is null)
        {
            yield return "subjectKeyIdentifier is missing from a CA certificate";
        }
    }
}
