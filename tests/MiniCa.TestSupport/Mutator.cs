using System.Text;

namespace MiniCa.TestSupport;

/// <summary>
/// Random changes of valid inputs, for the fuzz tests of what MiniCa reads from outside: bits, bytes, lengths, cuts,
/// insertions, and splices from other valid inputs. <c>MINICA_FUZZ_ROUNDS</c> runs a longer campaign than the suite's
/// rounds, and <c>MINICA_FUZZ_SEED</c> another random sequence.
/// </summary>
public static class Mutator
{
    /// <summary>Rounds per fuzz test: 6,000 in the suite.</summary>
    public static int Rounds => RoundsOr(6000);

    /// <summary>The rounds <c>MINICA_FUZZ_ROUNDS</c> asks for, or <paramref name="suite"/> (a test whose rounds cost more).</summary>
    public static int RoundsOr(int suite) =>
        int.TryParse(Environment.GetEnvironmentVariable("MINICA_FUZZ_ROUNDS"), out var rounds) && rounds > 0 ? rounds : suite;

    /// <summary>The random sequence of a test, shifted by <c>MINICA_FUZZ_SEED</c>.</summary>
    public static Random Random(int test) =>
        new(test + (int.TryParse(Environment.GetEnvironmentVariable("MINICA_FUZZ_SEED"), out var sequence) ? sequence : 0));

    /// <summary>One to <paramref name="most"/> random changes of <paramref name="bytes"/>; splices come from <paramref name="others"/>.</summary>
    public static byte[] Mutate(byte[] bytes, IReadOnlyList<byte[]> others, Random random, int most = 4)
    {
        var result = new List<byte>(bytes);
        var changes = 1 + random.Next(most);
        for (var i = 0; i < changes && result.Count > 0; i++)
        {
            var at = random.Next(result.Count);
            switch (random.Next(8))
            {
                case 0:
                    result[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    result[at] = new byte[] { 0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF }[random.Next(8)];
                    break;
                case 2:
                    result.RemoveRange(at, result.Count - at);
                    break;
                case 3:
                    result.RemoveRange(at, Math.Min(result.Count - at, 1 + random.Next(16)));
                    break;
                case 4:
                    var inserted = new byte[1 + random.Next(8)];
                    random.NextBytes(inserted);
                    result.InsertRange(at, inserted);
                    break;
                case 5:
                    var length = Math.Min(result.Count - at, 1 + random.Next(64));
                    result.InsertRange(at, result.GetRange(at, length));
                    break;
                case 6:
                    var other = others[random.Next(others.Count)];
                    var from = random.Next(other.Length);
                    var spliced = other.AsSpan(from, Math.Min(other.Length - from, 1 + random.Next(48))).ToArray();
                    result.RemoveRange(at, Math.Min(result.Count - at, spliced.Length));
                    result.InsertRange(at, spliced);
                    break;
                default:
                    // A DER length: the byte after a SEQUENCE, SET, [0], OCTET STRING or BIT STRING tag, one longer or
                    // shorter, or a long form announcing four length octets.
                    var tag = result.FindIndex(at, b => b is 0x30 or 0x31 or 0xA0 or 0x04 or 0x03);
                    if (tag >= 0 && tag + 1 < result.Count)
                    {
                        result[tag + 1] = random.Next(3) switch
                        {
                            0 => (byte)(result[tag + 1] + 1),
                            1 => (byte)(result[tag + 1] - 1),
                            _ => 0x84,
                        };
                    }

                    break;
            }
        }

        return [.. result];
    }
}

/// <summary>Distinct failures of a fuzz test (by exception type, message and place), each with its first input.</summary>
public sealed class FuzzFailures
{
    private readonly Dictionary<string, string> _seen = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="action"/> on <paramref name="input"/>; any exception it lets out is a finding.</summary>
    public void Check(byte[] input, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            action();
        }
#pragma warning disable CA1031 // Every exception is the finding: collected, so that one run reports each kind once.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Record(input, ex);
        }
    }

    private void Record(byte[] input, Exception ex)
    {
        // Where it was thrown, and where MiniCa's code called into it.
        var frames = (ex.StackTrace ?? string.Empty).Split('\n').Select(f => f.Trim()).ToList();
        var where = string.Join(" <- ", frames.Take(1).Concat(frames.Where(f => f.StartsWith("at MiniCa.", StringComparison.Ordinal) && !f.Contains("Tests", StringComparison.Ordinal)).Take(2)).Distinct());
        _seen.TryAdd($"{ex.GetType().Name}: {ex.Message.Split('\n')[0]} {where}", Convert.ToHexString(input));
    }

    /// <summary>As <see cref="Check"/>, for work that awaits.</summary>
    public async Task CheckAsync(byte[] input, Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            await action();
        }
#pragma warning disable CA1031 // Every exception is the finding, as in Check.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Record(input, ex);
        }
    }

    /// <summary>Each kind of failure with its first input, for the test's assertion; <see langword="null"/> when none.</summary>
    public string? Summary
    {
        get
        {
            if (_seen.Count == 0)
            {
                return null;
            }

            var report = new StringBuilder().AppendLine($"{_seen.Count} kind(s) of failure:");
            foreach (var (failure, input) in _seen)
            {
                report.AppendLine(failure).Append("  input: ").AppendLine(input);
            }

            return report.ToString();
        }
    }
}
