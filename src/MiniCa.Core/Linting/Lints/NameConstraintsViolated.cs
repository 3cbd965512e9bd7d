using MiniCa.Core.Authorities;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>
/// Every DNS, IP and email name of the certificate lies within the issuer's nameConstraints, else relying parties
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
        foreach (var name in context.SubjectAltNames.Where(n => n.TagNo is GeneralName.DnsName or GeneralName.IPAddress or GeneralName.Rfc822Name))
        {
            if (AuthorityNameConstraints.Violation(constraints, name) is { } violation)
            {
                yield return violation;
            }
        }
    }
}
