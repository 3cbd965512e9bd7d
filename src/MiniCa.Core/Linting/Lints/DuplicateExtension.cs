using Org.BouncyCastle.Asn1;

namespace MiniCa.Core.Linting.Lints;

/// <summary>A certificate MUST NOT include more than one instance of a particular extension.</summary>
internal sealed class DuplicateExtension : CertificateLint
{
    public override string Name => "e_duplicate_extension";

    public override string Citation => "RFC 5280 §4.2";

    // BouncyCastle refuses to parse such a certificate, so this lint reads the encoding itself.
    public override bool RequiresParsedCertificate => false;

    public override IEnumerable<string> Check(LintContext context)
    {
        var tbs = Asn1Sequence.GetInstance(context.Asn1[0]);
        var extensions = tbs.OfType<Asn1TaggedObject>().FirstOrDefault(t => t.TagNo == 3);
        if (extensions is null)
        {
            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extension in Asn1Sequence.GetInstance(extensions, true).Cast<Asn1Encodable>())
        {
            var oid = DerObjectIdentifier.GetInstance(Asn1Sequence.GetInstance(extension)[0]).Id;
            if (!seen.Add(oid))
            {
                yield return $"extension {oid} appears more than once";
            }
        }
    }
}
