
namespace MiniCa.Core.Linting.Lints;

/// <summary>Certificates with extensions are version 3.</summary>
internal sealed class VersionNotV3 : CertificateLint
{
    public override string Name => "e_version_not_v3";

    public override string Citation => "RFC 5280 §4.1.2.1";

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.Certificate.Version != 3)
        {
            yield return $"the certificate is version {context.Certificate.Version}; MiniCa issues version 3 only (extensions require it)";
        }
    }
}
