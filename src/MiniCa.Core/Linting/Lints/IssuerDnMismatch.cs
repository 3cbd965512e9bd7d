
namespace MiniCa.Core.Linting.Lints;

/// <summary>The issuer field equals the issuing CA's subject.</summary>
internal sealed class IssuerDnMismatch : CertificateLint
{
    public override string Name => "e_issuer_dn_mismatch";

    public override string Citation => "RFC 5280 §4.1.2.4";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (!context.Certificate.IssuerDN.Equivalent(context.Issuer.SubjectDN, inOrder: true))
        {
            yield return $"issuer \"{context.Certificate.IssuerDN}\" is not the issuing CA's subject \"{context.Issuer.SubjectDN}\"";
        }
    }
}
