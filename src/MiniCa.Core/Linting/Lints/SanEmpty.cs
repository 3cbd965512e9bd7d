using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>A subjectAltName extension holds at least one name.</summary>
internal sealed class SanEmpty : CertificateLint
{
    public override string Name => "e_san_empty";

    public override string Citation => "RFC 5280 §4.2.1.6";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Extension(X509Extensions.SubjectAlternativeName) is not null && context.SubjectAltNames.Count == 0)
        {
            yield return "subjectAltName is present but holds no names";
        }
    }
}
