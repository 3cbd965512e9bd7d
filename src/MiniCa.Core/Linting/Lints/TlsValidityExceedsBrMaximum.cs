
namespace MiniCa.Core.Linting.Lints;

/// <summary>TLS server certificates stay within the CA/B Forum maximum validity of their issuance date.</summary>
internal sealed class TlsValidityExceedsBrMaximum : CertificateLint
{
    public override string Name => "w_tls_validity_exceeds_br_maximum";

    public override string Citation => "CA/B Forum BR §6.3.2 (Ballot SC-081)";

    public override bool Applies(LintContext context) => context.IsTlsServer && !context.IsCa;

    public override IEnumerable<string> Check(LintContext context)
    {
        // The validity period includes both ends: notAfter - notBefore + 1 second (BR §1.6.1 "Validity Period").
        var period = context.Certificate.NotAfter - context.Certificate.NotBefore + TimeSpan.FromSeconds(1);
        var limit = MaximumDays(context.Now);
        if (period > TimeSpan.FromDays(limit))
        {
            yield return $"the validity period is {period.TotalDays:0.##} days; publicly-trusted TLS certificates issued now may have at most {limit}";
        }
    }

    /// <summary>The BR maximum for a TLS subscriber certificate issued at <paramref name="now"/>.</summary>
    internal static int MaximumDays(DateTimeOffset now) => now switch
    {
        _ when now < new DateTimeOffset(2026, 3, 15, 0, 0, 0, TimeSpan.Zero) => 398,
        _ when now < new DateTimeOffset(2027, 3, 15, 0, 0, 0, TimeSpan.Zero) => 200,
        _ when now < new DateTimeOffset(2029, 3, 15, 0, 0, 0, TimeSpan.Zero) => 100,
        _ => 47,
    };
}
