
namespace MiniCa.Core.Linting.Lints;

/// <summary>No internal names unless the profile allows them.</summary>
internal sealed class InternalName : CertificateLint
{
    public override string Name => "e_internal_name";

    public override string Citation => "CA/B Forum BR §7.1.4.2.1";

    public override bool Applies(LintContext context) => context.Profile is not { Identifiers.Dns.InternalNames: true };

    public override IEnumerable<string> Check(LintContext context)
    {
        foreach (var name in context.DnsNames.Where(Identifiers.DnsNames.IsInternal))
        {
            yield return $"dNSName '{name}' is an internal name";
        }
    }
}
