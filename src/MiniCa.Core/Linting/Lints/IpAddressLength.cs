using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.Lints;

/// <summary>iPAddress names are 4 (IPv4) or 16 (IPv6) octets.</summary>
internal sealed class IpAddressLength : CertificateLint
{
    public override string Name => "e_ip_address_length";

    public override string Citation => "RFC 5280 §4.2.1.6";

    public override IEnumerable<string> Check(LintContext context)
    {
        foreach (var name in context.SubjectAltNames.Where(n => n.TagNo == GeneralName.IPAddress))
        {
            var length = Asn1OctetString.GetInstance(name.Name).GetOctets().Length;
            if (length is not (4 or 16))
            {
                yield return $"an iPAddress name has {length} octets; 4 or 16";
            }
        }
    }
}
