using MiniCa.Core.Errors;

namespace MiniCa.Core.Keys;

/// <summary>The kind of key family.</summary>
public enum KeyFamily
{
    /// <summary>Elliptic curve (ECDSA) keys.</summary>
    Ec,

    /// <summary>RSA keys.</summary>
    Rsa,
}

/// <summary>
/// A key algorithm MiniCa can generate in an HSM: named NIST curves (RFC 5480) and RSA moduli of 2048 bits or
/// more (CA/B Forum Baseline Requirements §6.1.5).
/// </summary>
public sealed record KeyAlgorithm
{
    /// <summary>ECDSA on NIST P-256 (secp256r1).</summary>
    public static readonly KeyAlgorithm EcP256 = new("P-256", KeyFamily.Ec, 256, "1.2.840.10045.3.1.7");

    /// <summary>ECDSA on NIST P-384 (secp384r1).</summary>
    public static readonly KeyAlgorithm EcP384 = new("P-384", KeyFamily.Ec, 384, "1.3.132.0.34");

    /// <summary>RSA with a 2048-bit modulus.</summary>
    public static readonly KeyAlgorithm Rsa2048 = new("RSA-2048", KeyFamily.Rsa, 2048, null);

    /// <summary>RSA with a 3072-bit modulus.</summary>
    public static readonly KeyAlgorithm Rsa3072 = new("RSA-3072", KeyFamily.Rsa, 3072, null);

    /// <summary>RSA with a 4096-bit modulus.</summary>
    public static readonly KeyAlgorithm Rsa4096 = new("RSA-4096", KeyFamily.Rsa, 4096, null);

    private KeyAlgorithm(string name, KeyFamily family, int bits, string? curveOid)
    {
        Name = name;
        Family = family;
        Bits = bits;
        CurveOid = curveOid;
    }

    /// <summary>Every algorithm, in the order shown to users.</summary>
    public static IReadOnlyList<KeyAlgorithm> All { get; } = [EcP256, EcP384, Rsa2048, Rsa3072, Rsa4096];

    /// <summary>The name used in configuration and output, e.g. <c>P-256</c> or <c>RSA-3072</c>.</summary>
    public string Name { get; }

    /// <summary>EC or RSA.</summary>
    public KeyFamily Family { get; }

    /// <summary>Field size for EC keys, modulus size for RSA keys.</summary>
    public int Bits { get; }

    /// <summary>The named curve's OID for EC keys; <see langword="null"/> for RSA.</summary>
    public string? CurveOid { get; }

    /// <summary>Parses a name such as <c>P-384</c>, <c>p384</c>, <c>RSA-3072</c> or <c>rsa3072</c>.</summary>
    /// <exception cref="CaException">The name is not a supported algorithm.</exception>
    public static KeyAlgorithm Parse(string value)
    {
        return TryParse(value, out var algorithm)
            ? algorithm
            : throw new CaException(
                CaErrorKind.Malformed,
                $"'{value}' is not a supported key algorithm; use one of {string.Join(", ", All.Select(a => a.Name))}.");
    }

    /// <summary>Parses a key algorithm name without throwing.</summary>
    public static bool TryParse(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out KeyAlgorithm? algorithm)
    {
        var normalized = (value ?? string.Empty).Replace("-", string.Empty, StringComparison.Ordinal).Trim();
        algorithm = All.FirstOrDefault(a =>
            string.Equals(a.Name.Replace("-", string.Empty, StringComparison.Ordinal), normalized, StringComparison.OrdinalIgnoreCase));
        return algorithm is not null;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
