using System.Security.Cryptography;
using MiniCa.Core.Requests;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>
/// BR §6.1.1.3 (5): RSA keys whose private key follows from the public key are refused. The weak keys are made here
/// from primes chosen to have the weakness (close primes, RSALib's form), so that each check is shown to fire,
/// and keys from two generators are shown to pass.
/// </summary>
public sealed class WeakRsaKeyTests
{
    private static readonly SecureRandom Random = new();
    private static readonly BigInteger E = BigInteger.ValueOf(65537);

    [Theory]
    [InlineData(2048)]
    [InlineData(3072)]
    [InlineData(4096)]
    public void Problems_KeysFromGenerators_None(int bits)
    {
        using var dotnet = RSA.Create(bits);
        Assert.Empty(WeakRsaKeys.Problems(dotnet.ExportParameters(false).Modulus));
        var bouncy = (RsaKeyParameters)Csrs.Rsa(bits).Public;
        Assert.Empty(WeakRsaKeys.Problems(bouncy.Modulus.ToByteArrayUnsigned()));
    }

    [Fact]
    public void Parse_ClosePrimes_IsRejectedNamingFermatsMethod()
    {
        // |p − q| ≈ 2^514 for 1024-bit primes: (p − q)² / (8√n) ≈ 2 rounds.
        var p = Prime1024();
        var q = NextPrime(p.Add(BigInteger.One.ShiftLeft(514)));
        var result = CsrParser.Parse(Csrs.Der("CN=close.example.com", key: KeyPair(p, q)));

        var problem = Assert.Single(result.Problems);
        Assert.Contains("Fermat's method factors the modulus in round", problem, StringComparison.Ordinal);
        Assert.Contains("BR §6.1.1.3 (5)", problem, StringComparison.Ordinal);
        Assert.False(result.IsValid);
    }

    [Fact]
    public void Problems_PrimesFartherApartThanAHundredRounds_None()
    {
        // |p − q| ≈ 2^520: about 2^13 rounds, beyond the 100 the BR names.
        var p = Prime1024();
        var q = NextPrime(p.Add(BigInteger.One.ShiftLeft(520)));
        Assert.Empty(WeakRsaKeys.Problems(p.Multiply(q).ToByteArrayUnsigned()));
    }

    [Fact]
    public void Problems_SquareModulus_FactorsInTheFirstRound()
    {
        var p = BigInteger.ProbablePrime(1024, Random);
        var problem = Assert.Single(WeakRsaKeys.Problems(p.Multiply(p).ToByteArrayUnsigned()));
        Assert.Contains("in round 1 of 100", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(751)]
    public void Problems_SmallFactor_IsNamed(int factor)
    {
        var n = BigInteger.ProbablePrime(2040, Random).Multiply(BigInteger.ValueOf(factor));
        var problem = Assert.Single(WeakRsaKeys.Problems(n.ToByteArrayUnsigned()));
        Assert.Contains($"divisible by {factor};", problem, StringComparison.Ordinal);
        Assert.Contains("BR §6.1.6", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_FactorOf757_IsNotSmall()
    {
        // 757 is the first prime above the BR's bound of 752: the check stops there.
        var n = BigInteger.ProbablePrime(2040, Random).Multiply(BigInteger.ValueOf(757));
        Assert.Empty(WeakRsaKeys.Problems(n.ToByteArrayUnsigned()));
    }

    [Fact]
    public void Parse_RsaLibPrimes_IsRejectedNamingRoca()
    {
        var result = CsrParser.Parse(Csrs.Der("CN=roca.example.com", key: KeyPair(RsaLibPrime(1024), RsaLibPrime(1024))));

        var problem = Assert.Single(result.Problems);
        Assert.Contains("ROCA", problem, StringComparison.Ordinal);
        Assert.Contains("CVE-2017-15361", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_OnePrimeOfRsaLibsForm_IsNotTheFingerprint()
    {
        // The fingerprint is the product's: one RSALib prime beside a random one does not show it.
        var n = RsaLibPrime(1024).Multiply(BigInteger.ProbablePrime(1024, Random));
        Assert.Empty(WeakRsaKeys.Problems(n.ToByteArrayUnsigned()));
    }

    /// <summary>A prime of RSALib's form k·M + (65537^a mod M), M the product of the primes up to 167.</summary>
    private static BigInteger RsaLibPrime(int bits)
    {
        var m = BigInteger.One;
        for (var i = 2; i <= 167; i++)
        {
            if (BigInteger.ValueOf(i).IsProbablePrime(20))
            {
                m = m.Multiply(BigInteger.ValueOf(i));
            }
        }

        var residue = E.ModPow(new BigInteger(64, Random), m);
        BigInteger k;
        do
        {
            // Both top bits set, so that two such primes make a modulus of exactly 2·bits bits.
            k = new BigInteger(bits - m.BitLength + 1, Random);
        }
        while (k.Multiply(m).BitLength != bits || !k.Multiply(m).TestBit(bits - 2));

        while (true)
        {
            var candidate = k.Multiply(m).Add(residue);
            if (candidate.IsProbablePrime(40) && !candidate.Subtract(BigInteger.One).Mod(E).Equals(BigInteger.Zero))
            {
                return candidate;
            }

            k = k.Add(BigInteger.One);
        }
    }

    /// <summary>A 1024-bit prime with its two top bits set: the product of two is a 2048-bit modulus.</summary>
    private static BigInteger Prime1024()
    {
        BigInteger p;
        do
        {
            p = BigInteger.ProbablePrime(1024, Random);
        }
        while (!p.TestBit(1022));
        return p;
    }

    private static BigInteger NextPrime(BigInteger from)
    {
        var candidate = from.TestBit(0) ? from : from.Add(BigInteger.One);
        while (!candidate.IsProbablePrime(40) || candidate.Subtract(BigInteger.One).Mod(E).Equals(BigInteger.Zero))
        {
            candidate = candidate.Add(BigInteger.Two);
        }

        return candidate;
    }

    /// <summary>An RSA key pair from two chosen primes, so that a CSR can be signed with the weak key.</summary>
    private static AsymmetricCipherKeyPair KeyPair(BigInteger p, BigInteger q)
    {
        var n = p.Multiply(q);
        var phi = p.Subtract(BigInteger.One).Multiply(q.Subtract(BigInteger.One));
        var d = E.ModInverse(phi);
        var secret = new RsaPrivateCrtKeyParameters(n, E, d, p, q,
            d.Mod(p.Subtract(BigInteger.One)), d.Mod(q.Subtract(BigInteger.One)), q.ModInverse(p));
        return new AsymmetricCipherKeyPair(new RsaKeyParameters(false, n, E), secret);
    }
}
