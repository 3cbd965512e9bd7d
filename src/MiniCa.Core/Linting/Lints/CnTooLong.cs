using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>A CN is at most 64 characters.</summary>
internal sealed class CnTooLong : CertificateLint
{
    public override string Name => "e_cn_too_long";

    public override string Citation => "RFC 5280 Appendix A (ub-common-name)";

    public override IEnumerable<string> Check(LintContext context)
    {
        foreach (var cn in context.Certificate.SubjectDN.GetValueList(X509Name.CN).Where(cn => cn.Length > 64))
        {
            yield return $"the CN is {cn.Length} characters; at most 64";
        }
    }
}
