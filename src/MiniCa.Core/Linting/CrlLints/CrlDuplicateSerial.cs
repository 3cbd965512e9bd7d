
namespace MiniCa.Core.Linting.CrlLints;

/// <summary>Each revoked certificate appears once.</summary>
internal sealed class CrlDuplicateSerial : CrlLint
{
    public override string Name => "e_crl_duplicate_serial";

    public override string Citation => "RFC 5280 §5.1.2.6";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        var seen = new HashSet<Org.BouncyCastle.Math.BigInteger>();
        // Read the encoded entries: BouncyCastle's entry set would merge duplicates.
        foreach (var entry in context.Crl.CertificateList.GetRevokedCertificates())
        {
            if (!seen.Add(entry.UserCertificate.Value))
            {
                yield return $"serial {entry.UserCertificate.Value.ToString(16)} is listed twice";
            }
        }
    }
}
