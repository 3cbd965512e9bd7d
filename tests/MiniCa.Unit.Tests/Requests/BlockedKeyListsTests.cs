using System.Globalization;
using MiniCa.Core.Errors;
using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.TestSupport;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;

namespace MiniCa.Unit.Tests.Requests;

/// <summary>
/// BR §6.1.1.3 (5)(1): RSA keys listed as known (Debian's weak keys) in files of Debian's openssl-blacklist format are
/// refused. The fingerprints' known values were computed apart from this code, with coreutils:
/// <c>printf 'Modulus=C0FFEE\n' | sha1sum | cut -c21-40</c>.
/// </summary>
public sealed class BlockedKeyListsTests : IDisposable
{
    private readonly TempDirectory _directory = new("minica-blocked-lists");

    public void Dispose() => _directory.Dispose();

    private string List(string name, string text)
    {
        var path = _directory.Combine(name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Digits(UInt128 fingerprint) => fingerprint.ToString("x20", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("C0FFEE", "6149ed99475722f13e18")]
    [InlineData("0ABC", "5e88f10d69110483e558")]
    public void Fingerprint_IsTheLower80BitsOfSha1OverOpenSslsModulusLine(string modulusHex, string expected)
    {
        // openssl prints the modulus in upper case with no leading zeros ("Modulus=ABC" for 0x0ABC).
        Assert.Equal(expected, Digits(BlockedKeyLists.Fingerprint(new BigInteger(modulusHex, 16))));
    }

    [Fact]
    public void Load_ReadsKeysSkipsCommentsAndBlanks_AndNamesTheListOfAListedKey()
    {
        var key = (RsaKeyParameters)Csrs.Rsa(2048).Public;
        var other = (RsaKeyParameters)Csrs.Rsa(2048).Public;
        var first = List("blacklist.RSA-1024", "# RSA-1024 keys\n\n5e88f10d69110483e558\n");
        var second = List("blacklist.RSA-2048", $"# keys of 2048 bits\n  {Digits(BlockedKeyLists.Fingerprint(key.Modulus)).ToUpperInvariant()}  \n5E88F10D69110483E558\n");

        var lists = BlockedKeyLists.Load([first, second]);

        Assert.Equal(2, lists.Count);
        Assert.Equal([first, second], lists.Files);
        Assert.Equal("the RSA key is listed in blacklist.RSA-2048 (BlockedKeyLists): its private key is known, e.g. a Debian weak key (BR §6.1.1.3 (5))", lists.Problem(key.Modulus));
        Assert.Null(lists.Problem(other.Modulus));
        Assert.Null(BlockedKeyLists.None.Problem(key.Modulus));
    }

    [Theory]
    [InlineData("5e88f10d69110483e55", "'5e88f10d69110483e55' is not 20 hexadecimal digits")]
    [InlineData("5e88f10d69110483e558 x", "'5e88f10d69110483e558 x' is not 20 hexadecimal digits")]
    [InlineData("0x88f10d69110483e558", "'0x88f10d69110483e558' is not 20 hexadecimal digits")]
    [InlineData("4aa1d5e2a30ea0a8e3e2d1f1d4a1b8c9c1b0a9f8", "'4aa1d5e2a30ea0a8e3e2d1f1d4a1b8c9c1b0a9f8' is not 20 hexadecimal digits")]
    public void Load_ALineThatIsNoFingerprint_StopsNamingTheFileAndLine(string line, string expected)
    {
        var file = List("weak.txt", $"# fine\n5e88f10d69110483e558\n{line}\n");

        var refused = Assert.Throws<CaException>(() => BlockedKeyLists.Load([file]));

        Assert.Equal(CaErrorKind.Configuration, refused.Kind);
        Assert.StartsWith($"BlockedKeyLists: {file} line 3: {expected} (a key's line is the last 20 digits of SHA-1 over 'Modulus=HEX\\n'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AFileThatCannotBeRead_StopsNamingIt()
    {
        var missing = _directory.Combine("absent.txt");

        var refused = Assert.Throws<CaException>(() => BlockedKeyLists.Load([missing]));

        Assert.Equal(CaErrorKind.Configuration, refused.Kind);
        Assert.StartsWith($"BlockedKeyLists: {missing} cannot be read (Could not find file", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CsrParser_AListedKey_IsRefusedWithTheOtherProblems_AnUnlistedOnePasses()
    {
        var listed = Csrs.Rsa(2048);
        var lists = BlockedKeyLists.Load([List("weak.txt", Digits(BlockedKeyLists.Fingerprint(((RsaKeyParameters)listed.Public).Modulus)) + "\n")]);

        var refused = CsrParser.Parse(Csrs.Der("CN=a.example.com,CN=b.example.com", key: listed), lists);
        var passed = CsrParser.Parse(Csrs.Der("CN=www.example.com", key: Csrs.Rsa(2048)), lists);
        var withoutLists = CsrParser.Parse(Csrs.Der("CN=www.example.com", key: listed));

        Assert.Contains("the RSA key is listed in weak.txt (BlockedKeyLists): its private key is known, e.g. a Debian weak key (BR §6.1.1.3 (5))", refused.Problems);
        Assert.True(refused.Problems.Count > 1, string.Join("; ", refused.Problems));
        Assert.True(passed.IsValid, string.Join("; ", passed.Problems));
        Assert.True(withoutLists.IsValid, string.Join("; ", withoutLists.Problems));

        // The portal's preview says it before anything is submitted.
        var profiles = ProfileLoader.LoadDirectory(Path.Combine(RepositoryPaths.Root, "policies"));
        var preview = RequestPreview.Evaluate(profiles, lists, "tls-server", Csrs.Der("CN=www.example.com", [new GeneralName(GeneralName.DnsName, "www.example.com")], listed));
        Assert.Equal(["the RSA key is listed in weak.txt (BlockedKeyLists): its private key is known, e.g. a Debian weak key (BR §6.1.1.3 (5))"], preview.Problems);
        Assert.True(RequestPreview.Evaluate(profiles, BlockedKeyLists.None, "tls-server", Csrs.Der("CN=www.example.com", [new GeneralName(GeneralName.DnsName, "www.example.com")], listed)).IsAcceptable);
    }

    [Fact]
    public void Refresh_AChangedFileIsReadAgain_ABadChangeKeepsTheListsInForce_AndIsSaidOnce()
    {
        var first = new BigInteger("C0FFEE", 16);
        var second = new BigInteger("0ABC", 16);
        var path = List("leaked.txt", $"# leaked keys\n{Digits(BlockedKeyLists.Fingerprint(first))}\n");
        var lists = BlockedKeyLists.Load([path]);
        Assert.NotNull(lists.Problem(first));

        // Unchanged: nothing read.
        Assert.False(lists.Refresh(out var error));
        Assert.Null(error);

        // Replaced by a list of another key: in force at once, the first key no longer refused.
        File.WriteAllText(path, $"# leaked keys, second edition\n{Digits(BlockedKeyLists.Fingerprint(second))}\n");
        Assert.True(lists.Refresh(out error));
        Assert.Null(error);
        Assert.Null(lists.Problem(first));
        Assert.Equal("the RSA key is listed in leaked.txt (BlockedKeyLists): its private key is known, e.g. a Debian weak key (BR §6.1.1.3 (5))", lists.Problem(second));

        // A bad line: the lists read before stay in force, and the error is said once until the file changes again.
        File.AppendAllText(path, "not-a-key\n");
        Assert.False(lists.Refresh(out error));
        Assert.StartsWith($"BlockedKeyLists: {path} line 3: 'not-a-key' is not 20 hexadecimal digits", error, StringComparison.Ordinal);
        Assert.NotNull(lists.Problem(second));
        Assert.False(lists.Refresh(out error));
        Assert.Null(error);

        // Removed: said, and the lists stay; mended: read again.
        File.Delete(path);
        Assert.False(lists.Refresh(out error));
        Assert.StartsWith($"BlockedKeyLists: {path} cannot be read", error, StringComparison.Ordinal);
        Assert.NotNull(lists.Problem(second));
        File.WriteAllText(path, $"{Digits(BlockedKeyLists.Fingerprint(first))}\n{Digits(BlockedKeyLists.Fingerprint(second))}\n");
        Assert.True(lists.Refresh(out error));
        Assert.Equal(2, lists.Count);

        Assert.False(BlockedKeyLists.None.Refresh(out error));
    }
}
