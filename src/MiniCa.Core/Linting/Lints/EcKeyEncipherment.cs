
namespace MiniCa.Core.Linting.Lints;

/// <summary>EC keys MUST NOT assert keyEncipherment or dataEncipherment.</summary>
internal sealed class EcKeyEncipherment : CertificateLint
{
    public override string Name => "e_ec_key_encipherment";

    public override string Citation => "RFC 8813 §3; CA/B Forum BR §7.1.2.7.11";

    public override IEnumerable<string> Check(LintContext context)
    {
        var usage = context.Certificate.GetKeyUsage();
        if (context.Certificate.SubjectPublicKeyInfo.Algorithm.Algorithm.Id == "1.2.840.10045.2.1" && usage is not null && (usage[2] || usage[3]))
        {
            yield return "an EC key asserts keyEncipherment or dataEncipherment";
        }
    }
}
