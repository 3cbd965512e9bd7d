
namespace MiniCa.Core.Linting.CrlLints;

/// <summary>Conforming CAs MUST include a nextUpdate later than thisUpdate.</summary>
internal sealed class CrlNextUpdateMissing : CrlLint
{
    public override string Name => "e_crl_next_update_missing";

    public override string Citation => "RFC 5280 §5.1.2.5";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        if (context.Crl.NextUpdate is null)
        {
            yield return "nextUpdate is missing";
        }
        else if (context.Crl.NextUpdate <= context.Crl.ThisUpdate)
        {
            yield return "nextUpdate is not later than thisUpdate";
        }
    }
}
