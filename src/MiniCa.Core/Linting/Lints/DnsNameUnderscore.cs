
namespace MiniCa.Core.Linting.Lints;

/// <summary>dNSNames contain no underscores.</summary>
internal sealed class DnsNameUnderscore : CertificateLint
{
    public override string Name => "e_dns_name_underscore";

    public override string Citation => "CA/B Forum BR §7.1.4.2.1";

    public override IEnumerable<string> Check(LintContext context)
    {
        foreach (var name in context.DnsNames.Where(n => n.Contains('_', StringComparison.Ordinal)))
        {
            yield return $"dNSName '{name}' contains an underscore";
        }
    }
}
