using MiniCa.Core.Issuance;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>
/// Every policy the certificate asserts is one its issuer's certificatePolicies carry (or the issuer's carry
/// anyPolicy): any other leaves the valid policy tree at the issuer, so a relying party that requires it refuses the
/// certificate (RFC 5280 §6.1.3 (d)). Applies when both certificates have the extension.
/// </summary>
internal sealed class CertPolicyNotInIssuer : CertificateLint
{
    public override string Name => "e_cert_policy_not_in_issuer";

    public override string Citation => "RFC 5280 §6.1.3 (d), §4.2.1.4";

    public override bool Applies(LintContext context) =>
        !context.IsSelfSigned
        && context.CertificatePolicies.Count > 0
        && context.Issuer.GetExtensionValue(X509Extensions.CertificatePolicies) is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        var issuerPolicies = CertificatePolicyStatements.Of(context.Issuer);
        var missing = CertificatePolicyStatements.NotConveyed(context.CertificatePolicies.Select(p => p.Oid), issuerPolicies);
        if (missing.Count > 0)
        {
            yield return $"the issuer's certificate conveys [{string.Join(", ", issuerPolicies.Select(p => p.Oid))}], not {string.Join(", ", missing)}";
        }
    }
}
