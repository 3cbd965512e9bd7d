using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Core.Profiles;

/// <summary>The names profiles use for key usages and extended key usages.</summary>
public static class ProfileVocabulary
{
    /// <summary>keyUsage bits by their RFC 5280 §4.2.1.3 names.</summary>
    public static IReadOnlyDictionary<string, int> KeyUsages { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["digitalSignature"] = KeyUsage.DigitalSignature,
        ["nonRepudiation"] = KeyUsage.NonRepudiation,
        ["contentCommitment"] = KeyUsage.NonRepudiation,
        ["keyEncipherment"] = KeyUsage.KeyEncipherment,
        ["dataEncipherment"] = KeyUsage.DataEncipherment,
        ["keyAgreement"] = KeyUsage.KeyAgreement,
        ["keyCertSign"] = KeyUsage.KeyCertSign,
        ["cRLSign"] = KeyUsage.CrlSign,
        ["encipherOnly"] = KeyUsage.EncipherOnly,
        ["decipherOnly"] = KeyUsage.DecipherOnly,
    };

    /// <summary>extendedKeyUsage purposes by their RFC 5280 §4.2.1.12 names.</summary>
    public static IReadOnlyDictionary<string, DerObjectIdentifier> ExtendedKeyUsages { get; } = new Dictionary<string, DerObjectIdentifier>(StringComparer.Ordinal)
    {
        ["serverAuth"] = KeyPurposeID.id_kp_serverAuth,
        ["clientAuth"] = KeyPurposeID.id_kp_clientAuth,
        ["codeSigning"] = KeyPurposeID.id_kp_codeSigning,
        ["emailProtection"] = KeyPurposeID.id_kp_emailProtection,
        ["timeStamping"] = KeyPurposeID.id_kp_timeStamping,
        ["OCSPSigning"] = KeyPurposeID.id_kp_OCSPSigning,
    };

    /// <summary>The OID of an EKU given by name or as a dotted OID; <see langword="null"/> when neither.</summary>
    public static DerObjectIdentifier? ExtendedKeyUsageOid(string nameOrOid)
    {
        if (ExtendedKeyUsages.TryGetValue(nameOrOid, out var oid))
        {
            return oid;
        }

        return DerObjectIdentifier.TryFromID(nameOrOid, out var parsed) ? parsed : null;
    }

    /// <summary>The keyUsage bit mask of a profile's names (unknown names are ignored; the loader rejects them).</summary>
    public static int KeyUsageBits(IEnumerable<string> names) =>
        names.Aggregate(0, (bits, name) => bits | (KeyUsages.TryGetValue(name, out var bit) ? bit : 0));
}
