using MiniCa.Core.Authorities;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>
/// Every DNS, IP, email and URI name of the certificate lies within the issuer's nameConstraints, else relying parties
/// refuse the certificate; applies when the issuer has them.
/// </summary>
internal sealed class NameConstraintsViolated : CertificateLint
{
    public override string Name => "e_name_constraints_violated";

    public override string Citation => "RFC 5280 §4.2.1.10";

    public override bool Applies(LintContext context) =>
        !context.IsSelfSigned && context.Issuer.GetExtensionValue(X509Extensions.NameConstraints) is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        var constraints = context.Issuer.GetExtensionValue(X509Extensions.NameConstraints).GetOctets();
        foreach (var name in context.SubjectAltNames.Where(n => n.TagNo is GeneralName.DnsName or GeneralName.IPAddress or GeneralName.Rfc822Name or GeneralName.UniformResourceIdentifier))
        {
            if (AuthorityNameConstraints.Violation(constraints, name) is { } violation)
            {
                yield return violation;
            }
        }

        // RFC 5280 §4.2.1.10: email constraints bind the subject's emailAddress attributes too (a profile's fixed
        // subject may carry one).
        var subject = context.Certificate.SubjectDN;
        foreach (var address in subject.GetValueList(X509Name.EmailAddress))
        {
            if (AuthorityNameConstraints.Violation(constraints, new GeneralName(GeneralName.Rfc822Name, address)) is { } violation)
            {
                yield return "the subject's emailAddress: " + violation;
            }
        }
    }
}
