
namespace MiniCa.Core.Linting.Lints;

/// <summary>dNSNames follow the preferred name syntax.</summary>
internal sealed class DnsNameSyntax : CertificateLint
{
    public override string Name => "e_dns_name_syntax";

    public override string Citation => "RFC 5280 §4.2.1.6; RFC 1034 §3.5";

    public override IEnumerable<string> Check(LintContext context)
    {
        foreach (var name in context.DnsNames)
        {
            foreach (var problem in Identifiers.DnsNames.Validate(name, allowWildcard: true)
                         .Where(p => !p.Contains("underscore", StringComparison.Ordinal) && !p.Contains("wildcard", StringComparison.Ordinal)))
            {
                yield return $"dNSName '{name}' {problem}";
            }
        }
    }
}
