using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MiniCa.Core.Errors;
using Org.BouncyCastle.Math;

namespace MiniCa.Core.Requests;

/// <summary>
/// Lists of RSA keys whose private keys are public, which a CA must refuse (BR §6.1.1.3 (5): keys whose private key
/// can easily be computed, such as Debian's weak keys of 2008, https://wiki.debian.org/SSLkeys), read from files the
/// operator names in <c>BlockedKeyLists</c>. The format is Debian's <c>openssl-blacklist</c>
/// (read by <c>openssl-vulnkey</c>), which others also publish lists of leaked keys in: one line per key, the last
/// 20 hexadecimal digits (the lower 80 bits) of SHA-1 over <c>Modulus=HEX\n</c> as <c>openssl rsa -noout -modulus</c>
/// prints it (upper case, no leading zeros); blank lines and lines starting with <c>#</c> are skipped. Debian no
/// longer ships the lists, so none is built in.
/// </summary>
public sealed class BlockedKeyLists
{
    /// <summary>Hexadecimal digits per line: the lower 80 bits of the SHA-1.</summary>
    public const int DigitsPerLine = 20;

    /// <summary>No lists: nothing is refused.</summary>
    public static BlockedKeyLists None { get; } = new([], new Dictionary<UInt128, int>());

    /// <summary>For each listed fingerprint, the index in <see cref="Files"/> of the first file that lists it; replaced whole by <see cref="Refresh"/>.</summary>
    private volatile Dictionary<UInt128, int> _listed;

    /// <summary>Each file's size and last write when it was read (or last found unreadable), to see a change.</summary>
    private (long Length, DateTime Written)[] _stamps;

    private BlockedKeyLists(IReadOnlyList<string> files, Dictionary<UInt128, int> listed)
    {
        Files = files;
        _listed = listed;
        _stamps = Stamps(files);
    }

    /// <summary>The files read, as named.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Distinct keys listed.</summary>
    public int Count => _listed.Count;

    /// <summary>
    /// Reads the files again when any has changed since they were last read (size or last write), so that a list
    /// updated while the CA runs is in force without a restart. A changed file that cannot be read or holds a bad
    /// line leaves the lists read before in force, and is said once (<paramref name="error"/>) until it changes again.
    /// Returns whether the lists in force changed. Not thread-safe against itself: one caller refreshes.
    /// </summary>
    public bool Refresh(out string? error)
    {
        error = null;
        if (Files.Count == 0)
        {
            return false;
        }

        var stamps = Stamps(Files);
        if (stamps.AsSpan().SequenceEqual(_stamps))
        {
            return false;
        }

        _stamps = stamps;
        try
        {
            _listed = Load(Files)._listed;
            return true;
        }
        catch (CaException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    private static (long Length, DateTime Written)[] Stamps(IReadOnlyList<string> files) => files.Select(file =>
    {
        var info = new FileInfo(file);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1L, DateTime.MinValue);
    }).ToArray();

    /// <summary>Reads every file in <paramref name="files"/>.</summary>
    /// <exception cref="CaException">A file cannot be read, or a line is not a fingerprint (<see cref="CaErrorKind.Configuration"/>, naming the file and line).</exception>
    public static BlockedKeyLists Load(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
        {
            return None;
        }

        var listed = new Dictionary<UInt128, int>();
        for (var index = 0; index < files.Count; index++)
        {
            var file = files[index];
            try
            {
                var number = 0;
                foreach (var raw in File.ReadLines(file))
                {
                    number++;
                    var line = raw.Trim();
                    if (line.Length == 0 || line[0] == '#')
                    {
                        continue;
                    }

                    if (line.Length != DigitsPerLine || !UInt128.TryParse(line, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var fingerprint))
                    {
                        var shown = line.Length > 40 ? line[..40] + "…" : line;
                        throw new CaException(CaErrorKind.Configuration,
                            $"BlockedKeyLists: {file} line {number}: '{ControlCharacters.Escape(shown)}' is not {DigitsPerLine} hexadecimal digits (a key's line is the last {DigitsPerLine} digits of SHA-1 over 'Modulus=HEX\\n', as openssl-vulnkey reads them; '#' starts a comment).");
                    }

                    listed.TryAdd(fingerprint, index);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CaException(CaErrorKind.Configuration, $"BlockedKeyLists: {file} cannot be read ({ex.Message.TrimEnd('.')}).", ex);
            }
        }

        return new BlockedKeyLists(files.ToArray(), listed);
    }

    /// <summary>The lower 80 bits of SHA-1 over <c>Modulus=HEX\n</c>, as a list holds them.</summary>
    public static UInt128 Fingerprint(BigInteger modulus)
    {
        ArgumentNullException.ThrowIfNull(modulus);
        var text = Encoding.ASCII.GetBytes($"Modulus={modulus.ToString(16).ToUpperInvariant()}\n");
        // The lists are defined over SHA-1; a match only finds a key already listed, so its weakness costs nothing here.
#pragma warning disable CA5350
        var hash = SHA1.HashData(text);
#pragma warning restore CA5350
        return new UInt128(System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(hash.AsSpan(10, 2)), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash.AsSpan(12, 8)));
    }

    /// <summary>The reason a key of modulus <paramref name="modulus"/> is refused; <see langword="null"/> when no list holds it.</summary>
    public string? Problem(BigInteger modulus)
    {
        var listed = _listed;
        if (listed.Count == 0 || !listed.TryGetValue(Fingerprint(modulus), out var index))
        {
            return null;
        }

        return $"the RSA key is listed in {Path.GetFileName(Files[index])} (BlockedKeyLists): its private key is known, e.g. a Debian weak key (BR §6.1.1.3 (5))";
    }
}
