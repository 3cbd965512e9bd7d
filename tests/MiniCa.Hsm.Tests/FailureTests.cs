using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Signing;

namespace MiniCa.Hsm.Tests;

[Collection(HsmCollection.Name)]
public sealed class FailureTests(HsmFixture hsm)
{
    [Fact]
    public void Connect_WrongPin_FailsNamingThePin()
    {
        var label = "pin-" + Guid.NewGuid().ToString("N")[..8];
        hsm.CreateToken(label, "so-pin-1234", "right-pin-1234");
        Environment.SetEnvironmentVariable("MINICA_TEST_WRONG_PIN", "wrong-pin-9999");

        var error = Assert.Throws<CaException>(() => HsmMember.Connect(hsm.Settings with
        {
            Name = "wrong-pin",
            TokenLabel = label,
            PinSource = "env:MINICA_TEST_WRONG_PIN",
        }));

        Assert.Equal(CaErrorKind.HsmPinIncorrect, error.Kind);
        Assert.Contains("refused the user PIN", error.Message, StringComparison.Ordinal);
        Assert.Contains(label, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pin-9999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_RightPinOnSecondToken_LogsIn()
    {
        var label = "ok-" + Guid.NewGuid().ToString("N")[..8];
        hsm.CreateToken(label, "so-pin-1234", "user-pin-5678");
        Environment.SetEnvironmentVariable("MINICA_TEST_RIGHT_PIN", "user-pin-5678");

        using var member = HsmMember.Connect(hsm.Settings with { Name = "second", TokenLabel = label, PinSource = "env:MINICA_TEST_RIGHT_PIN" });

        Assert.True(member.GetStatus().LoggedIn);
        Assert.Equal(label, member.TokenLabel);
    }

    [Fact]
    public void Connect_MissingModule_FailsNamingThePath()
    {
        var error = Assert.Throws<CaException>(() => HsmMember.Connect(hsm.Settings with { ModulePath = "/opt/nowhere/libpkcs11.so" }));

        Assert.Equal(CaErrorKind.HsmModuleNotFound, error.Kind);
        Assert.Contains("PKCS#11 module not found at /opt/nowhere/libpkcs11.so", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_FileThatIsNoModule_FailsNamingThePath()
    {
        var path = Path.Combine(hsm.DataDirectory, "not-a-module.so");
        File.WriteAllText(path, "plain text");

        var error = Assert.Throws<CaException>(() => HsmMember.Connect(hsm.Settings with { ModulePath = path }));

        Assert.Equal(CaErrorKind.HsmModuleNotFound, error.Kind);
        Assert.Contains($"Could not load the PKCS#11 module at {path}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_UnknownTokenLabel_FailsListingTheTokensThatExist()
    {
        var error = Assert.Throws<CaException>(() => HsmMember.Connect(hsm.Settings with { TokenLabel = "NoSuchToken" }));

        Assert.Equal(CaErrorKind.HsmTokenNotFound, error.Kind);
        Assert.Contains("token with label 'NoSuchToken' not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("tokens present: 'MiniCa' (serial ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_UnknownTokenSerial_FailsNamingTheSerial()
    {
        var error = Assert.Throws<CaException>(() => HsmMember.Connect(hsm.Settings with { TokenLabel = null, TokenSerial = "0000deadbeef" }));

        Assert.Equal(CaErrorKind.HsmTokenNotFound, error.Kind);
        Assert.Contains("serial '0000deadbeef'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_PinEnvironmentVariableUnset_FailsNamingTheVariable()
    {
        var error = Assert.Throws<CaException>(() => HsmMember.Connect(hsm.Settings with { PinSource = "env:MINICA_TEST_UNSET_PIN" }));

        Assert.Equal(CaErrorKind.Configuration, error.Kind);
        Assert.Contains("MINICA_TEST_UNSET_PIN is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetSigner_MissingKey_FailsNamingTheKeyAndToken()
    {
        var error = Assert.Throws<CaException>(() => hsm.Keys.GetSigner("no-such-key"));

        Assert.Equal(CaErrorKind.HsmKeyNotFound, error.Kind);
        Assert.Contains("key 'no-such-key' (private key) not found on token 'MiniCa'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetSigner_MalformedUri_FailsAsMalformed()
    {
        var error = Assert.Throws<CaException>(() => hsm.Keys.GetSigner("pkcs11:id=%zz"));

        Assert.Equal(CaErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public void Sign_AlgorithmThatDoesNotFitTheKey_IsRefused()
    {
        var signer = hsm.Keys.GenerateKey(HsmFixture.UniqueKeyName("fit"), KeyAlgorithm.EcP256);

        var error = Assert.Throws<CaException>(() => signer.Sign(SignatureAlgorithm.RsaPkcs1Sha256, [1, 2, 3]));

        Assert.Equal(CaErrorKind.InvalidState, error.Kind);
    }
}
