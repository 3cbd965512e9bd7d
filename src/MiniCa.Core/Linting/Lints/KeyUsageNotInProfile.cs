using MiniCa.Core.Profiles;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>keyUsage asserts only what the profile allows.</summary>
internal sealed class KeyUsageNotInProfile : CertificateLint
{
    public override string Name => "e_key_usage_not_in_profile";

    public override string Citation => "MiniCa profile keyUsage";

    public override bool Applies(LintContext context) => context.Profile is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        var allowed = ProfileVocabulary.KeyUsageBits(context.Profile!.KeyUsage);
        var usage = context.Extension(X509Extensions.KeyUsage) is { } ku ? KeyUsage.GetInstance(ku.GetParsedValue()).IntValue : 0;
        if ((usage & ~allowed) != 0)
        {
            yield return $"keyUsage bits 0x{usage & ~allowed:x} are not in profile '{context.Profile.Name}'";
        }
    }
}
