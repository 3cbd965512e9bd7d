
namespace MiniCa.Core.Linting.CrlLints;

/// <summary>The CRL issuer is the issuing CA's subject.</summary>
internal sealed class CrlIssuerMismatch : CrlLint
{
    public override string Name => "e_crl_issuer_mismatch";

    public override string Citation => "RFC 5280 §5.1.2.3";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        if (!context.Crl.IssuerDN.Equivalent(context.Issuer.SubjectDN, inOrder: true))
        {
            yield return "the CRL issuer is not the CA's subject";
        }
    }
}
