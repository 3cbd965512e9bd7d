using MiniCa.TestSupport;

namespace MiniCa.Hsm.Tests;

/// <summary>
/// One throw-away SoftHSM2 token store for this test run, provisioned exactly as the embedded default is
/// (SoftHSM reads its configuration once per process, so every HSM test in this assembly shares it).
/// </summary>
public sealed class HsmFixture : IDisposable
{
    private readonly TempDirectory _directory = new("minica-hsm");

    public HsmFixture()
    {
        ModulePath = Prerequisites.RequireSoftHsm();
        DataDirectory = _directory.Combine("data");
        Settings = EmbeddedSoftHsm.Provision(DataDirectory, ModulePath, maxSessions: 8);
        Member = HsmMember.Connect(Settings);
        Keys = new Pkcs11KeyStore(Member);
    }

    public string ModulePath { get; }

    public string DataDirectory { get; }

    public HsmMemberSettings Settings { get; }

    public HsmMember Member { get; }

    public Pkcs11KeyStore Keys { get; }

    public EmbeddedHsmPaths Paths => EmbeddedSoftHsm.PathsFor(DataDirectory);

    public string UserPin => File.ReadAllText(Paths.UserPinFile).Trim();

    /// <summary>A key name no other test uses.</summary>
    public static string UniqueKeyName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 64)];

    /// <summary>Creates another token in the same store (for tests that must not share the main token's login).</summary>
    public void CreateToken(string label, string soPin, string userPin) =>
        EmbeddedSoftHsm.InitializeToken(Pkcs11Modules.Load(ModulePath), label, soPin, userPin);

    public void Dispose()
    {
        Member.Dispose();
        _directory.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class HsmCollection : ICollectionFixture<HsmFixture>
{
    public const string Name = "SoftHSM2 token store";
}
