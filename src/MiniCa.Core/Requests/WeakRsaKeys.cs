using System.Numerics;

namespace MiniCa.Core.Requests;

/// <summary>
/// RSA public keys whose private key can be computed from the public key, which the CA/B Forum Baseline
/// Requirements §6.1.1.3 (5) oblige a CA to refuse: moduli with a small prime factor (BR §6.1.6), moduli with the
/// ROCA fingerprint (CVE-2017-15361, keys from Infineon's RSALib) and moduli whose two primes are close enough for
/// Fermat's method to factor them within 100 rounds. Each check is arithmetic on the modulus alone.
/// </summary>
public static class WeakRsaKeys
{
    /// <summary>BR §6.1.1.3 (5)(3): keys that Fermat's factorization method breaks within this many rounds are refused.</summary>
    public const int FermatRounds = 100;

    /// <summary>BR §6.1.6: the modulus SHOULD have no factors smaller than 752.</summary>
    private const int SmallFactorBound = 752;

    /// <summary>The primes below <see cref="SmallFactorBound"/>.</summary>
    private static readonly int[] SmallPrimes = PrimesBelow(SmallFactorBound);

    private static readonly BigInteger SmallPrimeProduct = Product(SmallPrimes);

    /// <summary>
    /// The primes of the ROCA fingerprint: RSALib's primes are k·M + (65537^a mod M) with M a product of the first
    /// primes, so a modulus of two of them lies, modulo each small prime p, in the subgroup that 65537 generates
    /// mod p. A random modulus passes all of 3..167 with negligible probability (Nemec et al., CCS 2017).
    /// </summary>
    private static readonly int[] RocaPrimes = SmallPrimes.Where(p => p is >= 3 and <= 167).ToArray();

    private static readonly BigInteger RocaPrimeProduct = Product(RocaPrimes);

    /// <summary>For each of <see cref="RocaPrimes"/>, which residues are powers of 65537 modulo it.</summary>
    private static readonly bool[][] RocaResidues = RocaPrimes.Select(PowersOf65537).ToArray();

    /// <summary>
    /// Moduli below 2³¹ whose factors' square residues sieve Fermat's candidates: a number that is not a square
    /// modulo one factor is not a square. Together they let about one candidate in 500,000 through to a square root.
    /// </summary>
    private static readonly (int Modulus, int[] Factors)[] Sieves = [(64 * 63 * 65 * 11, [64, 63, 65, 11]), (17 * 19 * 23 * 29 * 31 * 37, [17, 19, 23, 29, 31, 37])];

    /// <summary>For each factor of <see cref="Sieves"/>, which residues squares have modulo it.</summary>
    private static readonly Dictionary<int, bool[]> SquareResidueTables = Sieves.SelectMany(s => s.Factors).ToDictionary(f => f, SquareResidues);

    /// <summary>Why an RSA modulus (big-endian, unsigned) is weak; empty when none of the checks applies.</summary>
    /// <param name="modulus">The modulus n as unsigned big-endian bytes.</param>
    public static IReadOnlyList<string> Problems(ReadOnlySpan<byte> modulus)
    {
        var n = new BigInteger(modulus, isUnsigned: true, isBigEndian: true);
        var problems = new List<string>();
        if (n < 3)
        {
            problems.Add("the RSA modulus is not a product of primes");
            return problems;
        }

        if (SmallFactor(n) is { } factor)
        {
            problems.Add($"the RSA modulus is divisible by {factor}; its factors must all be 752 or more (BR §6.1.6)");
            return problems;
        }

        if (HasRocaFingerprint(n))
        {
            problems.Add("the RSA key has the ROCA fingerprint (CVE-2017-15361, Infineon RSALib), so its private key can be computed from the public key; generate a new key elsewhere (BR §6.1.1.3 (5))");
        }

        if (FermatRound(n) is { } round)
        {
            problems.Add($"the RSA key's two primes are so close that Fermat's method factors the modulus in round {round + 1} of {FermatRounds}; generate a new key (BR §6.1.1.3 (5), close primes)");
        }

        return problems;
    }

    /// <summary>The smallest prime below 752 dividing <paramref name="n"/>, or <see langword="null"/>.</summary>
    private static int? SmallFactor(BigInteger n)
    {
        // One gcd with the product of all of them; the rare hit is then named by trial division.
        var common = BigInteger.GreatestCommonDivisor(n, SmallPrimeProduct);
        if (common.IsOne)
        {
            return null;
        }

        foreach (var prime in SmallPrimes)
        {
            if (common % prime == 0)
            {
                return prime;
            }
        }

        return null;
    }

    private static bool HasRocaFingerprint(BigInteger n)
    {
        var reduced = n % RocaPrimeProduct;
        for (var i = 0; i < RocaPrimes.Length; i++)
        {
            if (!RocaResidues[i][(int)(reduced % RocaPrimes[i])])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The round (from 0) in which Fermat's method finds n = a² − b², or <see langword="null"/> when it does not within
    /// <see cref="FermatRounds"/>. a runs from ⌈√n⌉ upwards; round i tests dᵢ = d₀ + i·(2a₀ + 1) + i(i − 1) = (a₀ + i)² − n.
    /// The rounds run on dᵢ's residues modulo the sieves, in machine integers; only a candidate that passes every
    /// sieve is built and its square root taken.
    /// </summary>
    private static int? FermatRound(BigInteger n)
    {
        var a = IntegerSquareRoot(n);
        var first = (a * a) - n;
        if (first.Sign < 0)
        {
            first += (2 * a) + 1;
            a += 1;
        }

        var step = (2 * a) + 1;
        var residues = Sieves.Select(sieve => (int)(first % sieve.Modulus)).ToArray();
        var steps = Sieves.Select(sieve => (int)(step % sieve.Modulus)).ToArray();
        for (var round = 0; round < FermatRounds; round++)
        {
            if (MaySquare(residues) && IsSquare(first + (round * step) + ((long)round * (round - 1))))
            {
                return round;
            }

            for (var i = 0; i < Sieves.Length; i++)
            {
                var modulus = Sieves[i].Modulus;
                residues[i] = (int)(((long)residues[i] + steps[i]) % modulus);
                steps[i] = (int)(((long)steps[i] + 2) % modulus);
            }
        }

        return null;
    }

    private static bool MaySquare(int[] residues)
    {
        for (var i = 0; i < Sieves.Length; i++)
        {
            foreach (var factor in Sieves[i].Factors)
            {
                if (!SquareResidueTables[factor][residues[i] % factor])
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool IsSquare(BigInteger value)
    {
        var root = IntegerSquareRoot(value);
        return root * root == value;
    }

    /// <summary>⌊√value⌋ for value ≥ 0, by Newton's method from an estimate above the root.</summary>
    internal static BigInteger IntegerSquareRoot(BigInteger value)
    {
        if (value.Sign <= 0)
        {
            return BigInteger.Zero;
        }

        var bits = (long)value.GetBitLength();
        // The top ~100 bits give a double-precision root; shifted back it is within a few units of the root's top
        // half, and +2 keeps it above the root, as Newton's descent requires.
        var shift = (int)Math.Max(0, (bits - 100) & ~1L);
        var top = value >> shift;
        var x = (new BigInteger(Math.Floor(Math.Sqrt((double)top))) + 2) << (shift / 2);
        while (true)
        {
            var next = (x + (value / x)) >> 1;
            if (next >= x)
            {
                return x;
            }

            x = next;
        }
    }

    private static int[] PrimesBelow(int bound)
    {
        var composite = new bool[bound];
        var primes = new List<int>();
        for (var i = 2; i < bound; i++)
        {
            if (composite[i])
            {
                continue;
            }

            primes.Add(i);
            for (var multiple = i * i; multiple < bound; multiple += i)
            {
                composite[multiple] = true;
            }
        }

        return primes.ToArray();
    }

    private static BigInteger Product(IEnumerable<int> values) => values.Aggregate(BigInteger.One, (product, value) => product * value);

    private static bool[] PowersOf65537(int prime)
    {
        var powers = new bool[prime];
        var generator = 65537 % prime;
        var power = 1;
        do
        {
            powers[power] = true;
            power = power * generator % prime;
        }
        while (power != 1);
        return powers;
    }

    private static bool[] SquareResidues(int modulus)
    {
        var squares = new bool[modulus];
        for (var i = 0; i < modulus; i++)
        {
            squares[i * i % modulus] = true;
        }

        return squares;
    }
}
