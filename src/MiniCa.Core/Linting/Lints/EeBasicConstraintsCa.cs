
namespace MiniCa.Core.Linting.Lints;

/// <summary>Subscriber certificates MUST NOT assert cA.</summary>
internal sealed class EeBasicConstraintsCa : CertificateLint
{
    public override string Name => "e_ee_basic_constraints_ca";

    public override string Citation => "CA/B Forum BR §7.1.2.7.8";

    public override bool Applies(LintContext context) => context.Profile is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.IsCa)
        {
            yield return "a certificate issued under a profile (end entity) asserts cA=TRUE";
        }
    }
}
