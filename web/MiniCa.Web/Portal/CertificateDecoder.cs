using System.Globalization;
using System.Security.Cryptography;
using MiniCa.Core.Issuance;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;

namespace MiniCa.Web.Portal;

/// <summary>One extension as a person reads it.</summary>
internal sealed record ExtensionView(string Name, string Oid, bool Critical, IReadOnlyList<string> Values);

/// <summary>A certificate decoded for display.</summary>
internal sealed record DecodedCertificate(string Subject, string Issuer, string Serial, DateTimeOffset NotBefore, DateTimeOffset NotAfter,
    string PublicKey, string SignatureAlgorithm, string Sha256Fingerprint, IReadOnlyList<ExtensionView> Extensions);

/// <summary>Decodes a DER certificate and its extensions (RFC 5280 §4.2) for the certificate details page.</summary>
internal static class CertificateDecoder
{
    private static readonly Dictionary<string, string> Names = new()
    {
        [X509Extensions.SubjectKeyIdentifier.Id] = "Subject Key Identifier",
        [X509Extensions.AuthorityKeyIdentifier.Id] = "Authority Key Identifier",
        [X509Extensions.KeyUsage.Id] = "Key Usage",
        [X509Extensions.ExtendedKeyUsage.Id] = "Extended Key Usage",
        [X509Extensions.SubjectAlternativeName.Id] = "Subject Alternative Name",
        [X509Extensions.BasicConstraints.Id] = "Basic Constraints",
        [X509Extensions.CrlDistributionPoints.Id] = "CRL Distribution Points",
        [X509Extensions.AuthorityInfoAccess.Id] = "Authority Information Access",
        [X509Extensions.CertificatePolicies.Id] = "Certificate Policies",
        [X509Extensions.NameConstraints.Id] = "Name Constraints",
        [X509Extensions.FreshestCrl.Id] = "Freshest CRL",
        ["1.3.6.1.5.5.7.48.1.5"] = "OCSP No Check",
    };

    private static readonly Dictionary<string, string> Purposes = new()
    {
        [KeyPurposeID.id_kp_serverAuth.Id] = "TLS server authentication",
        [KeyPurposeID.id_kp_clientAuth.Id] = "TLS client authentication",
        [KeyPurposeID.id_kp_codeSigning.Id] = "Code signing",
        [KeyPurposeID.id_kp_emailProtection.Id] = "Email protection",
        [KeyPurposeID.id_kp_OCSPSigning.Id] = "OCSP signing",
        [KeyPurposeID.id_kp_timeStamping.Id] = "Time stamping",
    };

    public static DecodedCertificate Decode(byte[] der)
    {
        var certificate = new X509CertificateParser().ReadCertificate(der);
        var structure = certificate.CertificateStructure;
        var extensions = new List<ExtensionView>();
        var all = structure.TbsCertificate.Extensions;
        if (all is not null)
        {
            foreach (var oid in all.ExtensionOids)
            {
                var extension = all.GetExtension(oid);
                extensions.Add(new ExtensionView(Names.GetValueOrDefault(oid.Id, oid.Id), oid.Id, extension.IsCritical, Describe(oid, extension)));
            }
        }

        return new DecodedCertificate(certificate.SubjectDN.ToString(), certificate.IssuerDN.ToString(), certificate.SerialNumber.ToString(16),
            new DateTimeOffset(certificate.NotBefore, TimeSpan.Zero), new DateTimeOffset(certificate.NotAfter, TimeSpan.Zero),
            KeyText(structure.SubjectPublicKeyInfo), Org.BouncyCastle.Security.DigestUtilities.GetAlgorithmName(structure.SignatureAlgorithm.Algorithm) is { Length: > 0 } n ? n : certificate.SigAlgName,
            string.Join(':', SHA256.HashData(der).Select(b => b.ToString("X2", CultureInfo.InvariantCulture))), extensions);
    }

    private static string KeyText(SubjectPublicKeyInfo key)
    {
        var algorithm = key.Algorithm.Algorithm.Id;
        return algorithm switch
        {
            "1.2.840.10045.2.1" => "EC " + (MiniCa.Core.Requests.CsrParser.CurveName(DerObjectIdentifier.GetInstance(key.Algorithm.Parameters)) ?? "named curve"),
            "1.2.840.113549.1.1.1" => $"RSA {Org.BouncyCastle.Asn1.X509.RsaPublicKeyStructure.GetInstance(key.ParsePublicKey()).Modulus.BitLength}",
            "1.3.101.112" => "Ed25519",
            _ => algorithm,
        };
    }

    private static List<string> Describe(DerObjectIdentifier oid, X509Extension extension)
    {
        try
        {
            var value = extension.GetParsedValue();
            if (oid.Equals(X509Extensions.KeyUsage))
            {
                var bits = KeyUsage.GetInstance(value).IntValue;
                (int Bit, string Name)[] usages = [(KeyUsage.DigitalSignature, "digitalSignature"), (KeyUsage.NonRepudiation, "contentCommitment"), (KeyUsage.KeyEncipherment, "keyEncipherment"),
                    (KeyUsage.DataEncipherment, "dataEncipherment"), (KeyUsage.KeyAgreement, "keyAgreement"), (KeyUsage.KeyCertSign, "keyCertSign"), (KeyUsage.CrlSign, "cRLSign")];
                return usages.Where(u => (bits & u.Bit) != 0).Select(u => u.Name).ToList();
            }

            if (oid.Equals(X509Extensions.ExtendedKeyUsage))
            {
                return ExtendedKeyUsage.GetInstance(value).GetAllUsages().Select(u => Purposes.GetValueOrDefault(u.Id, u.Id)).ToList();
            }

            if (oid.Equals(X509Extensions.SubjectAlternativeName))
            {
                return GeneralNames.GetInstance(value).GetNames().Select(NameText).ToList();
            }

            if (oid.Equals(X509Extensions.BasicConstraints))
            {
                var constraints = BasicConstraints.GetInstance(value);
                return [constraints.IsCA() ? "CA" + (constraints.PathLenConstraint is { } length ? $", path length {length}" : string.Empty) : "not a CA"];
            }

            if (oid.Equals(X509Extensions.SubjectKeyIdentifier))
            {
                return [Hex(SubjectKeyIdentifier.GetInstance(value).GetKeyIdentifier())];
            }

            if (oid.Equals(X509Extensions.AuthorityKeyIdentifier))
            {
                return [Hex(AuthorityKeyIdentifier.GetInstance(value).KeyIdentifier?.GetOctets() ?? [])];
            }

            if (oid.Equals(X509Extensions.AuthorityInfoAccess))
            {
                return AuthorityInformationAccess.GetInstance(value).GetAccessDescriptions()
                    .Select(d => (d.AccessMethod.Equals(AccessDescription.IdADOcsp) ? "OCSP: " : "CA issuers: ") + NameText(d.AccessLocation)).ToList();
            }

            if (oid.Equals(X509Extensions.CrlDistributionPoints) || oid.Equals(X509Extensions.FreshestCrl))
            {
                return CrlDistPoint.GetInstance(value).GetDistributionPoints()
                    .SelectMany(p => p.DistributionPointName?.Name is GeneralNames names ? names.GetNames().Select(NameText) : []).ToList();
            }

            if (oid.Equals(X509Extensions.CertificatePolicies))
            {
                return CertificatePolicyStatements.Read(value).Select(p =>
                    (p.Oid == CertificatePolicyStatements.AnyPolicy ? "anyPolicy" : p.Oid)
                    + string.Concat(p.Cps.Select(c => "; CPS: " + c))
                    + string.Concat(p.ExplicitTexts.Select(t => "; notice: " + t.Text))).ToList();
            }

            if (oid.Equals(X509Extensions.NameConstraints))
            {
                // NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] … }
                return Asn1Sequence.GetInstance(value).Cast<Asn1Encodable>()
                    .Select(e => Asn1TaggedObject.GetInstance(e))
                    .SelectMany(t => Subtrees(t.TagNo == 0 ? "Permitted" : "Excluded", Asn1Sequence.GetInstance(t, false)))
                    .ToList();
            }

            return [Hex(extension.Value.GetOctets())];
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException)
        {
            return ["(could not be decoded)"];
        }
    }

    private static IEnumerable<string> Subtrees(string kind, Asn1Sequence subtrees) =>
        subtrees.Cast<Asn1Encodable>().Select(t => $"{kind}: {SubtreeText(GeneralSubtree.GetInstance(t).Base)}");

    /// <summary>A subtree's base; an IP subtree is an address and a mask (RFC 5280 §4.2.1.10), shown as a CIDR block.</summary>
    private static string SubtreeText(GeneralName name)
    {
        if (name.TagNo != GeneralName.IPAddress)
        {
            return NameText(name);
        }

        var octets = Asn1OctetString.GetInstance(name.Name).GetOctets();
        if (octets.Length is not (8 or 32))
        {
            return "IP: " + Hex(octets);
        }

        var half = octets.Length / 2;
        var prefix = octets[half..].Sum(b => System.Numerics.BitOperations.PopCount(b));
        return $"IP: {new System.Net.IPAddress(octets[..half])}/{prefix}";
    }

    private static string NameText(GeneralName name) => name.TagNo switch
    {
        GeneralName.DnsName => "DNS: " + name.Name,
        GeneralName.UniformResourceIdentifier => "URI: " + name.Name,
        GeneralName.Rfc822Name => "Email: " + name.Name,
        GeneralName.IPAddress => "IP: " + new System.Net.IPAddress(Asn1OctetString.GetInstance(name.Name).GetOctets()),
        _ => name.ToString(),
    };

    private static string Hex(byte[] bytes) => string.Join(':', bytes.Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));
}
