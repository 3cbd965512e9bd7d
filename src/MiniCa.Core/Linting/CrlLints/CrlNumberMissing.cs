using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Linting.CrlLints;

/// <summary>Conforming CRL issuers MUST include a non-negative cRLNumber.</summary>
internal sealed class CrlNumberMissing : CrlLint
{
    public override string Name => "e_crl_number_missing";

    public override string Citation => "RFC 5280 §5.2.3";

    public override IEnumerable<string> Check(CrlLintContext context)
    {
        var number = context.Crl.GetExtensionValue(X509Extensions.CrlNumber);
        if (number is null)
        {
            yield return "cRLNumber is missing";
        }
        else if (DerInteger.GetInstance(Asn1Object.FromByteArray(number.GetOctets())).Value.SignValue < 0)
        {
            yield return "cRLNumber is negative";
        }
    }
}
