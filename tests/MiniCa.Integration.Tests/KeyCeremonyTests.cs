using System.Text;
using MiniCa.Hsm;
using MiniCa.TestSupport;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509.Extension;

namespace MiniCa.Integration.Tests;

public sealed class KeyCeremonyTests(CeremonyFixture ceremony) : IClassFixture<CeremonyFixture>
{
    [Fact]
    public async Task Init_RootCertificate_PassesOpenSslStrictVerification()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");

        var result = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-CAfile", "root.pem", "root.pem"], workingDirectory: ceremony.CaDirectory);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("root.pem: OK", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Init_IssuingCertificate_PassesOpenSslStrictVerificationAgainstTheRoot()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");

        var result = await ProcessRunner.RunAsync(
            openssl,
            ["verify", "-x509_strict", "-check_ss_sig", "-CAfile", "root.pem", "issuing.pem"],
            workingDirectory: ceremony.CaDirectory);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("issuing.pem: OK", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Init_IssuingCertificate_PassesCertToolVerification()
    {
        var certtool = Prerequisites.RequireProgram("certtool", "gnutls-bin");

        var result = await ProcessRunner.RunAsync(
            certtool,
            ["--verify", "--load-ca-certificate", "root.pem", "--infile", "issuing.pem"],
            workingDirectory: ceremony.CaDirectory);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Chain verification output: Verified.", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_RootCertificate_PassesCertToolSelfVerification()
    {
        var certtool = Prerequisites.RequireProgram("certtool", "gnutls-bin");

        var result = await ProcessRunner.RunAsync(
            certtool,
            ["--verify", "--load-ca-certificate", "root.pem", "--infile", "root.pem"],
            workingDirectory: ceremony.CaDirectory);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Chain verification output: Verified.", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Init_BothCertificates_HavePositiveRandomSerialsOfAtMost20Octets()
    {
        foreach (var certificate in new[] { ceremony.Root, ceremony.Issuing })
        {
            var serial = certificate.SerialNumber;
            Assert.Equal(1, serial.SignValue);
            Assert.InRange(serial.ToByteArray().Length, 1, 20);
            // >= 64 random bits: a 64-bit-or-shorter serial happens with probability 2^-63.
            Assert.True(serial.BitLength > 64, $"serial {serial.ToString(16)} has only {serial.BitLength} bits");
        }

        Assert.NotEqual(ceremony.Root.SerialNumber, ceremony.Issuing.SerialNumber);
    }

    [Fact]
    public void Init_BothCertificates_HaveCriticalBasicConstraintsAndKeyUsageForACa()
    {
        Assert.Contains(X509Extensions.BasicConstraints.Id, ceremony.Root.GetCriticalExtensionOids());
        Assert.Contains(X509Extensions.BasicConstraints.Id, ceremony.Issuing.GetCriticalExtensionOids());
        Assert.Contains(X509Extensions.KeyUsage.Id, ceremony.Root.GetCriticalExtensionOids());
        Assert.Contains(X509Extensions.KeyUsage.Id, ceremony.Issuing.GetCriticalExtensionOids());

        // BC returns int.MaxValue for cA without pathLen and -1 for an end entity.
        Assert.Equal(int.MaxValue, ceremony.Root.GetBasicConstraints());
        Assert.Equal(0, ceremony.Issuing.GetBasicConstraints());

        foreach (var certificate in new[] { ceremony.Root, ceremony.Issuing })
        {
            var usage = certificate.GetKeyUsage();
            Assert.True(usage[5], "keyCertSign");
            Assert.True(usage[6], "cRLSign");
            Assert.False(usage[0] || usage[1] || usage[2] || usage[3] || usage[4], "only keyCertSign and cRLSign");
        }
    }

    [Fact]
    public void Init_IssuingCertificate_AuthorityKeyIdentifierEqualsRootSubjectKeyIdentifier()
    {
        var rootSki = SubjectKeyIdentifier.GetInstance(X509ExtensionUtilities.FromExtensionValue(
            ceremony.Root.GetExtensionValue(X509Extensions.SubjectKeyIdentifier))).GetKeyIdentifier();
        var issuingAki = AuthorityKeyIdentifier.GetInstance(X509ExtensionUtilities.FromExtensionValue(
            ceremony.Issuing.GetExtensionValue(X509Extensions.AuthorityKeyIdentifier))).KeyIdentifier.GetOctets();
        var issuingSki = ceremony.Issuing.GetExtensionValue(X509Extensions.SubjectKeyIdentifier);

        Assert.Equal(20, rootSki.Length);
        Assert.Equal(rootSki, issuingAki);
        Assert.NotNull(issuingSki);
        Assert.Equal(ceremony.Issuing.IssuerDN, ceremony.Root.SubjectDN);
    }

    [Fact]
    public void Init_Certificates_UseConfiguredAlgorithmsAndVerifyWithTheirIssuersKeys()
    {
        Assert.Equal("SHA-384withECDSA", ceremony.Root.SigAlgName);
        Assert.Equal("SHA-384withECDSA", ceremony.Issuing.SigAlgName);
        Assert.Equal(384, ((ECPublicKeyParameters)ceremony.Root.GetPublicKey()).Parameters.Curve.FieldSize);
        Assert.Equal(256, ((ECPublicKeyParameters)ceremony.Issuing.GetPublicKey()).Parameters.Curve.FieldSize);
        ceremony.Root.Verify(ceremony.Root.GetPublicKey());
        ceremony.Issuing.Verify(ceremony.Root.GetPublicKey());
        Assert.Throws<InvalidKeyException>(() => ceremony.Issuing.Verify(ceremony.Issuing.GetPublicKey()));
    }

    [Fact]
    public void Init_Validity_IsUtcTimeBefore2050AndGeneralizedTimeFrom2050()
    {
        var tbs = ceremony.Root.TbsCertificate;

        // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; the root is configured to end in 2051.
        Assert.True(ceremony.Root.NotAfter.Year >= 2050);
        const byte UtcTimeTag = 0x17, GeneralizedTimeTag = 0x18;
        Assert.Equal(GeneralizedTimeTag, tbs.EndDate.GetDerEncoded()[0]);
        Assert.Equal(UtcTimeTag, tbs.StartDate.GetDerEncoded()[0]);
        Assert.Equal(UtcTimeTag, ceremony.Issuing.TbsCertificate.EndDate.GetDerEncoded()[0]);
        // Whole seconds only (RFC 5280 §4.1.2.5.1/.2: no fractional seconds).
        Assert.Equal(15, tbs.EndDate.GetDerEncoded()[1]);
        Assert.Equal(ceremony.Issuing.NotBefore.AddDays(3650), ceremony.Issuing.NotAfter);
    }

    [Fact]
    public void Init_IssuingCertificate_PointsAtTheRootsCrlAndCertificateUnderThePublicBaseUrl()
    {
        var crl = CrlDistPoint.GetInstance(X509ExtensionUtilities.FromExtensionValue(
            ceremony.Issuing.GetExtensionValue(X509Extensions.CrlDistributionPoints)));
        var aia = AuthorityInformationAccess.GetInstance(X509ExtensionUtilities.FromExtensionValue(
            ceremony.Issuing.GetExtensionValue(X509Extensions.AuthorityInfoAccess)));

        Assert.Contains("http://ca.example.test:8080/crl/root.crl", crl.ToString(), StringComparison.Ordinal);
        Assert.Equal("http://ca.example.test:8080/ca/root.crt", aia.GetAccessDescriptions().Single().AccessLocation.Name.ToString());
    }

    [Fact]
    public void Init_Keys_ReadBackThroughPkcs11InteropAsSensitiveNeverExtractableSignOnly()
    {
        foreach (var name in new[] { "root", "issuing" })
        {
            var key = Assert.Single(ceremony.Keys, k => k.Label == name);
            Assert.Equal("EC", key.KeyType);
            Assert.True(key.Sensitive && key.AlwaysSensitive && key.NeverExtractable && key.Local, name);
            Assert.False(key.Extractable, name);
            Assert.True(key.Sign, name);
            Assert.False(key.Decrypt || key.Unwrap || key.Derive || key.SignRecover || key.Modifiable, name);
            Assert.False(key.ValueReadable, name);
        }
    }

    [Fact]
    public async Task Init_Keys_ReadBackThroughPkcs11ToolAsSensitiveNeverExtractableSignOnly()
    {
        var tool = Prerequisites.RequireProgram("pkcs11-tool", "opensc");
        var paths = EmbeddedSoftHsm.PathsFor(ceremony.DataDirectory);

        var result = await ProcessRunner.RunAsync(
            tool,
            ["--module", Prerequisites.SoftHsmModule, "--token-label", "MiniCa", "--login", "--pin", File.ReadAllText(paths.UserPinFile).Trim(),
             "--list-objects", "--type", "privkey"],
            new Dictionary<string, string?> { ["SOFTHSM2_CONF"] = paths.ConfigFile });

        Assert.Equal(0, result.ExitCode);
        foreach (var name in new[] { "root", "issuing" })
        {
            var block = result.StandardOutput.Split("Private Key Object").Single(b => b.Contains($"label:      {name}\n", StringComparison.Ordinal));
            Assert.Contains("Usage:      sign\n", block, StringComparison.Ordinal);
            Assert.Contains("Access:     sensitive, always sensitive, never extractable, local", block, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Init_DataDirectory_HoldsNoKeyMaterialOutsideTheEncryptedTokenStore()
    {
        var tokenStore = EmbeddedSoftHsm.PathsFor(ceremony.DataDirectory).TokenDirectory;
        var pin = File.ReadAllText(EmbeddedSoftHsm.PathsFor(ceremony.DataDirectory).UserPinFile).Trim();
        var files = System.IO.Directory.GetFiles(ceremony.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(tokenStore, StringComparison.Ordinal) && !f.Contains("/secrets/", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var text = Encoding.Latin1.GetString(bytes);
            Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
            Assert.DoesNotContain(pin, text, StringComparison.Ordinal);
            Assert.ThrowsAny<Exception>(() => PrivateKeyFactory.CreateKey(bytes));
        }

        Assert.DoesNotContain(pin, ceremony.Init.Combined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_SecondRun_IsRefusedWithOneLineReasonAndKeepsTheCa()
    {
        var before = File.ReadAllBytes(Path.Combine(ceremony.CaDirectory, "root.crt"));

        var result = await Minica.RunAsync(ceremony.Directory, ["init"]);

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("already initialised", line, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(ceremony.CaDirectory, "root.crt")));
    }

    [Fact]
    public async Task HsmKeys_AfterInit_ListsBothKeysWithTheirSecurityAttributes()
    {
        var result = await Minica.RunAsync(ceremony.Directory, ["hsm", "keys"]);

        Assert.Equal(0, result.ExitCode);
        foreach (var name in new[] { "root", "issuing" })
        {
            var row = result.StandardOutput.Split('\n').Single(l => l.Contains($" {name} ", StringComparison.Ordinal) && l.Contains("pkcs11:", StringComparison.Ordinal));
            Assert.Contains("sensitive always-sensitive not-extractable never-extractable generated-in-token not-modifiable", row, StringComparison.Ordinal);
            Assert.Contains("sign only", row, StringComparison.Ordinal);
            Assert.Contains($"object={name}", row, StringComparison.Ordinal);
        }

        Assert.Contains("2 key(s) on token MiniCa", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HsmSync_OneMember_ReportsNoDrift()
    {
        var result = await Minica.RunAsync(ceremony.Directory, ["hsm", "sync"]);

        Assert.True(result.ExitCode == 0, result.StandardError + result.StandardOutput);
        Assert.Contains("No drift", result.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"embedded\s.*root\s.*ok", result.StandardOutput);
    }

    [Fact]
    public async Task HsmRemoveMember_LastHolder_IsRefusedWithOneLine()
    {
        var result = await Minica.RunAsync(ceremony.Directory, ["hsm", "remove-member", "embedded"]);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("minica: error: Refused: HSM member 'embedded' is the last member holding", result.StandardError.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HsmAddMember_UnknownName_SaysWhichMembersExist()
    {
        var result = await Minica.RunAsync(ceremony.Directory, ["hsm", "add-member", "nosuch"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No HSM member is named 'nosuch'; configured: embedded", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HsmStatus_AfterInit_ShowsModuleTokenAndLogin()
    {
        var result = await Minica.RunAsync(ceremony.Directory, ["hsm", "status"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(Prerequisites.SoftHsmModule, result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("SoftHSM", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("MiniCa (serial ", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("logged in as user", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("initialised", result.StandardOutput, StringComparison.Ordinal);
    }
}
