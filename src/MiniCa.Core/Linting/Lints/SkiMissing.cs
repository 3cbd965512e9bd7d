using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>End-entity certificates SHOULD carry a subjectKeyIdentifier.</summary>
internal sealed class SkiMissing : CertificateLint
{
    public override string Name => "w_ski_missing";

    public override string Citation => "RFC 5280 §4.2.1.2";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (!context.IsCa && context.Extension(X509Extensions.SubjectKeyIdentifier) is null)
        {
            yield return "subjectKeyIdentifier is missing from an end-entity certificate";
        }
    }
}
