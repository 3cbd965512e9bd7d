
namespace MiniCa.Core.Linting.Lints;

/// <summary>A wildcard is only the whole left-most label.</summary>
internal sealed class DnsWildcardNotLeftmost : CertificateLint
{
    public override string Name => "e_dns_wildcard_not_leftmost";

    public override string Citation => "CA/B Forum BR §7.1.4.2.1; RFC 6125 §6.4.3";

    public override IEnumerable<string> Check(LintContext context)
    {
        foreach (var name in context.DnsNames.Where(n => n.Contains('*', StringComparison.Ordinal)))
        {
            var labels = name.Split('.');
            if (labels[0] != "*" || labels.Skip(1).Any(l => l.Contains('*', StringComparison.Ordinal)))
            {
                yield return $"dNSName '{name}' has a wildcard that is not the whole left-most label";
            }
        }
    }
}
