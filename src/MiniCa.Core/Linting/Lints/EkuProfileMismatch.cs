using MiniCa.Core.Profiles;

namespace MiniCa.Core.Linting.Lints;

/// <summary>The extendedKeyUsage purposes are exactly the profile's.</summary>
internal sealed class EkuProfileMismatch : CertificateLint
{
    public override string Name => "e_eku_profile_mismatch";

    public override string Citation => "MiniCa profile extendedKeyUsage; CA/B Forum BR §7.1.2.7.10";

    public override bool Applies(LintContext context) => context.Profile is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        var expected = context.Profile!.ExtendedKeyUsage.Select(e => ProfileVocabulary.ExtendedKeyUsageOid(e)!.Id).Order(StringComparer.Ordinal).ToList();
        var actual = context.ExtendedKeyUsages.Select(o => o.Id).Order(StringComparer.Ordinal).ToList();
        if (!expected.SequenceEqual(actual))
        {
            yield return $"extendedKeyUsage is [{string.Join(", ", actual)}] but profile '{context.Profile.Name}' says [{string.Join(", ", expected)}]";
        }
    }
}
