
namespace MiniCa.Core.Linting.Lints;

/// <summary>CA certificates MUST carry keyUsage with keyCertSign.</summary>
internal sealed class CaKeyUsageMissing : CertificateLint
{
    public override string Name => "e_ca_key_usage_missing";

    public override string Citation => "RFC 5280 §4.2.1.3";

    public override bool Applies(LintContext context) => context.IsCa;

    public override IEnumerable<string> Check(LintContext context)
    {
        var usage = context.Certificate.GetKeyUsage();
        if (usage is null || !usage[5])
        {
            yield return "a CA certificate without keyUsage keyCertSign";
        }
    }
}
