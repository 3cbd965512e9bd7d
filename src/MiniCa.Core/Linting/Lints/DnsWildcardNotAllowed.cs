
namespace MiniCa.Core.Linting.Lints;

/// <summary>Wildcard names only where the profile allows them.</summary>
internal sealed class DnsWildcardNotAllowed : CertificateLint
{
    public override string Name => "e_dns_wildcard_not_allowed";

    public override string Citation => "MiniCa profile identifiers.dns.wildcards";

    public override bool Applies(LintContext context) => context.Profile is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        if (!context.Profile!.Identifiers.Dns.Wildcards)
        {
            foreach (var name in context.DnsNames.Where(n => n.StartsWith("*.", StringComparison.Ordinal)))
            {
                yield return $"dNSName '{name}' is a wildcard, which profile '{context.Profile.Name}' does not allow";
            }
        }
    }
}
