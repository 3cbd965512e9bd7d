using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>A CN, when present, repeats one of the subjectAltName values.</summary>
internal sealed class CnNotInSan : CertificateLint
{
    public override string Name => "e_cn_not_in_san";

    public override string Citation => "CA/B Forum BR §7.1.4.3";

    public override bool Applies(LintContext context) =>
        context.Profile is null or { Subject.CommonName: "firstIdentifier" };

    public override IEnumerable<string> Check(LintContext context)
    {
        if (context.SubjectAltNames.Count == 0)
        {
            yield break;
        }

        var values = context.SubjectAltNames.Select(n => n.TagNo switch
        {
            GeneralName.IPAddress => new System.Net.IPAddress(Asn1OctetString.GetInstance(n.Name).GetOctets()).ToString(),
            GeneralName.DnsName or GeneralName.Rfc822Name or GeneralName.UniformResourceIdentifier => DerIA5String.GetInstance(n.Name).GetString(),
            _ => string.Empty,
        }).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var cn in context.Certificate.SubjectDN.GetValueList(X509Name.CN))
        {
            if (!values.Contains(cn))
            {
                yield return $"the CN '{cn}' is not among the subjectAltName values";
            }
        }
    }
}
