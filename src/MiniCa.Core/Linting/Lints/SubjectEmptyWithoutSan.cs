using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>A certificate with an empty subject MUST carry a subjectAltName.</summary>
internal sealed class SubjectEmptyWithoutSan : CertificateLint
{
    public override string Name => "e_subject_empty_without_san";

    public override string Citation => "RFC 5280 §4.1.2.6";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.SubjectDN.GetOidList().Count == 0 && context.Extension(X509Extensions.SubjectAlternativeName) is null)
        {
            yield return "the subject is empty and there is no subjectAltName";
        }
    }
}
