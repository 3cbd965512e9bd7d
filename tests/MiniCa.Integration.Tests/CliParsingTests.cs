using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>The CLI refuses what it does not understand before it touches the CA: exit 64, one line, nothing created.</summary>
public sealed class CliParsingTests
{
    [Theory]
    [InlineData(new[] { "crl", "--authority", "issuing" }, "Unknown option 'authority'")]
    [InlineData(new[] { "revoke", "--serial", "0a1b2c3d4e5f6071", "--reason", "keyCompromise", "--invalidty", "2026-01-01" }, "Unknown option 'invalidty'")]
    [InlineData(new[] { "requests", "--limit", "0" }, "--limit 0 is out of range (1..10000)")]
    [InlineData(new[] { "requests", "--limit", "-5" }, "--limit -5 is out of range (1..10000)")]
    [InlineData(new[] { "audit", "verify", "--anchor", "12:abc" }, "--anchor '12:abc' is not ID:HASH")]
    [InlineData(new[] { "audit", "verify", "--settled-for", "-1" }, "--settled-for -1 is out of range (0..31536000)")]
    [InlineData(new[] { "audit", "sign", "--settled-for", "31536001" }, "--settled-for 31536001 is out of range (0..31536000)")]
    [InlineData(new[] { "backup", "restore", "backup" }, "--to FOLDER names the new folder to restore the CA into.")]
    [InlineData(new[] { "backup", "restore", "backup", "--to", "restored", "--anchor", "7:xyz" }, "--anchor '7:xyz' is not ID:HASH")]
    public async Task BadArguments_AreRefusedBeforeAnythingIsOpened(string[] args, string message)
    {
        using var directory = new TempDirectory("minica-cli-parse");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");

        var result = await Minica.RunAsync(directory.Path, args);

        Assert.Equal(64, result.ExitCode);
        Assert.Contains("minica: error: " + message, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Combined, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory.Combine("data")));
    }
}
