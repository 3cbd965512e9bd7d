using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.CrlLints;

/// <summary>The reasonCode unspecified SHOULD be absent.</summary>
internal sealed class CrlUnspecifiedReasonPresent : CrlLint
{
    public override string Name => "w_crl_unspecified_reason_present";

    public override string Citation => "RFC 5280 §5.3.1";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        foreach (var entry in context.Crl.CertificateList.GetRevokedCertificates())
        {
            var reason = entry.Extensions?.GetExtension(X509Extensions.ReasonCode);
            if (reason is not null && DerEnumerated.GetInstance(reason.GetParsedValue()).IntValueExact == 0)
            {
                yield return $"serial {entry.UserCertificate.Value.ToString(16)} carries reasonCode unspecified, which SHOULD be omitted";
            }
        }
    }
}
