using Org.BouncyCastle.Asn1;

namespace MiniCa.Core.Linting.Lints;

/// <summary>Conforming CAs MUST NOT encode a user notice's explicitText as IA5String (SHOULD use UTF8String).</summary>
internal sealed class CertPolicyExplicitTextIa5String : CertificateLint
{
    public override string Name => "e_cert_policy_explicit_text_ia5_string";

    public override string Citation => "RFC 6818 §3 (updating RFC 5280 §4.2.1.4)";

    public override bool Applies(LintContext context) => context.CertificatePolicies.Count > 0;

    public override IEnumerable<string> Check(LintContext context) =>
        from policy in context.CertificatePolicies
        from text in policy.ExplicitTexts
        where text.Encoding == typeof(DerIA5String)
        select $"the notice of policy {policy.Oid} is an IA5String";
}
