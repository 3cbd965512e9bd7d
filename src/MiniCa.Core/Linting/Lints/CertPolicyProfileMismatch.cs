using MiniCa.Core.Issuance;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>The certificatePolicies extension is exactly what the profile's <c>certificatePolicies</c> make: the same policies, qualifiers and order.</summary>
internal sealed class CertPolicyProfileMismatch : CertificateLint
{
    public override string Name => "e_cert_policy_profile_mismatch";

    public override string Citation => "MiniCa profile certificatePolicies; RFC 5280 §4.2.1.4";

    public override bool Applies(LintContext context) => context.Profile is not null;

    public override IEnumerable<string> Check(LintContext context)
    {
        var expected = CertificatePolicyStatements.Build(context.Profile!.CertificatePolicies)?.GetDerEncoded();
        var actual = context.Extension(X509Extensions.CertificatePolicies)?.Value.GetOctets();
        if (expected is null && actual is null)
        {
            yield break;
        }

        if (expected is null || actual is null || !expected.AsSpan().SequenceEqual(actual))
        {
            var asserted = string.Join(", ", context.CertificatePolicies.Select(p => p.Oid));
            var configured = string.Join(", ", context.Profile.CertificatePolicies.Select(p => CertificatePolicyStatements.Dotted(p.Oid)));
            yield return asserted == configured
                ? $"certificatePolicies [{asserted}] carry other qualifiers than profile '{context.Profile.Name}' gives"
                : $"certificatePolicies are [{asserted}] but profile '{context.Profile.Name}' says [{configured}]";
        }
    }
}
