using MiniCa.Hsm;
using MiniCa.TestSupport;
using Org.BouncyCastle.X509;

namespace MiniCa.Integration.Tests;

/// <summary>
/// Runs <c>minica init</c> once in a fresh directory (embedded HSM, a root that outlives 2049 so both time
/// encodings appear) and opens the resulting token in this process to read the keys back through Pkcs11Interop.
/// </summary>
public sealed class CeremonyFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new("minica-ceremony");

    public string Directory => _directory.Path;

    public string DataDirectory => _directory.Combine("data");

    public string CaDirectory => _directory.Combine("data", "ca");

    public ProcessResult Init { get; private set; } = null!;

    public X509Certificate Root { get; private set; } = null!;

    public X509Certificate Issuing { get; private set; } = null!;

    public IReadOnlyList<HsmKeyInfo> Keys { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Prerequisites.RequireSoftHsm();
        Minica.WriteConfig(Directory, """
            {
              "DataDirectory": "data",
              "PublicBaseUrl": "http://ca.example.test:8080",
              "Authorities": {
                "root": { "Subject": "CN=Test Root CA,O=MiniCa Tests,C=DE", "KeyAlgorithm": "P-384", "ValidityDays": 9000 },
                "issuing": { "Subject": "CN=Test Issuing CA,O=MiniCa Tests,C=DE", "Issuer": "root", "KeyAlgorithm": "P-256", "ValidityDays": 3650, "PathLength": 0 }
              }
            }
            """);
        Init = await Minica.RunAsync(Directory, ["init"]);
        if (Init.ExitCode != 0)
        {
            throw new InvalidOperationException("minica init failed: " + Init.Combined);
        }

        var parser = new X509CertificateParser();
        Root = parser.ReadCertificate(File.ReadAllBytes(Path.Combine(CaDirectory, "root.crt")));
        Issuing = parser.ReadCertificate(File.ReadAllBytes(Path.Combine(CaDirectory, "issuing.crt")));

        // The only SoftHSM2 store this test process ever loads.
        using var member = HsmMember.Connect(EmbeddedSoftHsm.Provision(DataDirectory, Prerequisites.SoftHsmModule));
        Keys = new Pkcs11KeyStore(member).ListKeys();
    }

    public void Dispose() => _directory.Dispose();

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
