using System.Text.RegularExpressions;

namespace MiniCa.Integration.Tests;

/// <summary>
/// The responder's own certificate revoked from another process (the CLI): the running host notices it within a
/// second, drops its pre-signed responses, and answers under a new certificate for a new key.
/// </summary>
public sealed partial class OcspResponderRevocationTests(OcspFixture ca) : IClassFixture<OcspFixture>
{
    [Fact]
    public async Task RevokeResponderCertificateForKeyCompromise_NextResponsesComeFromANewResponderCertificate()
    {
        var before = await ca.QueryAsync("good.pem", "-no_nonce");
        Assert.Contains("Response verify OK", before.Combined, StringComparison.Ordinal);
        var responder = ResponderSerial(before.StandardOutput);

        var revoke = await Minica.RunAsync(ca.Directory, ["revoke", "--serial", responder, "--reason", "keyCompromise"], ca.PublicBase());
        Assert.True(revoke.ExitCode == 0, revoke.Combined);
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        // A pre-signed response (no nonce) as well as a fresh one: both from the new responder certificate.
        foreach (var extra in new[] { "-no_nonce", "-nonce" })
        {
            var after = await ca.QueryAsync("good.pem", extra);
            Assert.True(after.ExitCode == 0, after.Combined);
            Assert.Contains("Response verify OK", after.Combined, StringComparison.Ordinal);
            Assert.Contains("good.pem: good", after.StandardOutput, StringComparison.Ordinal);
            Assert.NotEqual(responder, ResponderSerial(after.StandardOutput));
        }

        var keys = await Minica.RunAsync(ca.Directory, ["hsm", "keys"], ca.PublicBase());
        Assert.Contains("ocsp-issuing-2", keys.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>The serial of the certificate inside an OCSP response, as `openssl ocsp -resp_text` prints it.</summary>
    private static string ResponderSerial(string text)
    {
        var match = ResponderSerialPattern().Match(text);
        Assert.True(match.Success, text);
        return match.Groups[1].Value.Replace(":", string.Empty, StringComparison.Ordinal).TrimStart('0');
    }

    [GeneratedRegex(@"Certificate:\s*\n\s*Data:\s*\n\s*Version:[^\n]*\n\s*Serial Number:\s*\n?\s*([0-9a-f:]+)")]
    private static partial Regex ResponderSerialPattern();
}
