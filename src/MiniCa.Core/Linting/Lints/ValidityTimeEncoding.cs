using Org.BouncyCastle.Asn1;

namespace MiniCa.Core.Linting.Lints;

/// <summary>Validity times use UTCTime through 2049 and GeneralizedTime from 2050, in Zulu with seconds.</summary>
internal sealed class ValidityTimeEncoding : CertificateLint
{
    public override string Name => "e_validity_time_encoding";

    public override string Citation => "RFC 5280 §4.1.2.5";

    public override IEnumerable<string> Check(LintContext context)
    {
        foreach (var (name, time, at) in new[] { ("notBefore", context.Tbs.StartDate, context.Certificate.NotBefore), ("notAfter", context.Tbs.EndDate, context.Certificate.NotAfter) })
        {
            var encoded = time.ToAsn1Object();
            var utc = encoded is Asn1UtcTime;
            if (at.Year < 2050 != utc)
            {
                yield return $"{name} ({at:yyyy}) is encoded as {(utc ? "UTCTime" : "GeneralizedTime")}; UTCTime through 2049, GeneralizedTime from 2050";
            }

            var text = encoded is Asn1UtcTime u ? u.TimeString : ((Asn1GeneralizedTime)encoded).TimeString;
            if (!text.EndsWith('Z') || text.Contains('.', StringComparison.Ordinal) || text.Length != (utc ? 13 : 15))
            {
                yield return $"{name} is '{text}'; it must be in Zulu time with whole seconds";
            }
        }
    }
}
