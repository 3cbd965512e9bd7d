
namespace MiniCa.Core.Linting.Lints;

/// <summary>The validity period is within the profile's maximum.</summary>
internal sealed class ValidityExceedsProfile : CertificateLint
{
    public override string Name => "e_validity_exceeds_profile";

    public override string Citation => "MiniCa profile validity.maxDays";

    public override bool Applies(LintContext context) => context.Profile is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        var period = context.Certificate.NotAfter - context.Certificate.NotBefore;
        if (period > TimeSpan.FromDays(context.Profile!.Validity.MaxDays))
        {
            yield return $"the validity period is {period.TotalDays:0.##} days; profile '{context.Profile.Name}' allows {context.Profile.Validity.MaxDays}";
        }
    }
}
