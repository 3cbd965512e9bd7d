using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>With an empty subject, subjectAltName MUST be critical.</summary>
internal sealed class SanNotCriticalEmptySubject : CertificateLint
{
    public override string Name => "e_san_not_critical_empty_subject";

    public override string Citation => "RFC 5280 §4.2.1.6";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.SubjectDN.GetOidList().Count == 0 && context.Extension(X509Extensions.SubjectAlternativeName) is { IsCritical: false })
        {
            yield return "the subject is empty but subjectAltName is not critical";
        }
    }
}
