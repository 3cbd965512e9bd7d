
namespace MiniCa.Core.Linting.CrlLints;

/// <summary>A CRL with extensions is version 2.</summary>
internal sealed class CrlVersionNotV2 : CrlLint
{
    public override string Name => "e_crl_version_not_v2";

    public override string Citation => "RFC 5280 §5.1.2.1";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        if (context.Crl.Version != 2)
        {
            yield return $"the CRL is version {context.Crl.Version}; CRLs with extensions MUST be version 2";
        }
    }
}
