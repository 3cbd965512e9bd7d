namespace MiniCa.Hsm.Tests;

[Collection(HsmCollection.Name)]
public sealed class EmbeddedSoftHsmTests(HsmFixture hsm)
{
    [Fact]
    public void Provision_FirstStart_WritesPrivateConfigAndPinsAndATokenLabelledMiniCa()
    {
        var paths = hsm.Paths;

        Assert.Contains($"directories.tokendir = {paths.TokenDirectory}", File.ReadAllText(paths.ConfigFile), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(paths.UserPinFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(paths.SoPinFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(paths.HsmDirectory));
        Assert.NotEqual(File.ReadAllText(paths.UserPinFile), File.ReadAllText(paths.SoPinFile));
        Assert.True(File.ReadAllText(paths.UserPinFile).Trim().Length >= 20);
        Assert.Equal(EmbeddedSoftHsm.TokenLabel, hsm.Member.TokenLabel);
    }

    [Fact]
    public void Provision_SecondStart_KeepsTokenAndPins()
    {
        var pin = File.ReadAllText(hsm.Paths.UserPinFile);
        var serial = hsm.Member.TokenSerial;

        var settings = EmbeddedSoftHsm.Provision(hsm.DataDirectory, hsm.ModulePath);

        Assert.Equal(pin, File.ReadAllText(hsm.Paths.UserPinFile));
        Assert.Equal(EmbeddedSoftHsm.TokenLabel, settings.TokenLabel);
        Assert.Equal(serial, HsmMember.FindToken(Pkcs11Modules.Load(hsm.ModulePath), settings).Token.SerialNumber.Trim());
    }

    [Fact]
    public void Provision_OtherStoreWhileModuleLoaded_IsRefused()
    {
        var other = Path.Combine(hsm.DataDirectory, "other");

        var error = Assert.Throws<MiniCa.Core.Errors.CaException>(() => EmbeddedSoftHsm.Provision(other, hsm.ModulePath));

        Assert.Contains("needs a new process", error.Message, StringComparison.Ordinal);
    }
}
