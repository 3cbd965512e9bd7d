using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using MiniCa.Hsm;
using MiniCa.TestSupport;
using Org.BouncyCastle.X509;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// A whole CA in a temp directory: embedded SoftHSM2 token (this process's only store), SQLite database, the key
/// ceremony run, the shipped profiles plus a two-officer profile. Tests share it and run one after another.
/// </summary>
public sealed class IssuanceFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new("minica-issuance");

    public ServiceProvider Services { get; private set; } = null!;

    public IssuanceService Issuance => Services.GetRequiredService<IssuanceService>();

    public IIssuanceReader Reader => Services.GetRequiredService<IIssuanceReader>();

    public RevocationService Revocation => Services.GetRequiredService<RevocationService>();

    public CrlService Crls => Services.GetRequiredService<CrlService>();

    public string ConfigFile => _directory.Combine("ca.config.json");

    public HsmCluster Hsm => Services.GetRequiredService<HsmCluster>();

    public X509Certificate Root { get; private set; } = null!;

    public X509Certificate Issuing { get; private set; } = null!;

    public string CaDirectory => _directory.Combine("data", "ca");

    public string WorkDirectory => _directory.Path;

    public async Task InitializeAsync()
    {
        Prerequisites.RequireSoftHsm();
        TestPolicies.Prepare(_directory.Path);
        var config = _directory.Combine("ca.config.json");
        File.WriteAllText(config, """{ "DataDirectory": "data", "PublicBaseUrl": "http://ca.example.test/" }""");

        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddMiniCa(MiniCaConfiguration.Load(["--config", config]));
        Services = services.BuildServiceProvider();
        await Services.GetRequiredService<CaBootstrapper>().InitializeAsync();

        var parser = new X509CertificateParser();
        Root = parser.ReadCertificate(File.ReadAllBytes(Path.Combine(CaDirectory, "root.crt")));
        Issuing = parser.ReadCertificate(File.ReadAllBytes(Path.Combine(CaDirectory, "issuing.crt")));

        // Warm up: the first issuance reads the issuer's key from the HSM once.
        var warm = await Issuance.SubmitAsync(new IssuanceSubmission { Csr = Csrs.Dns("warm-up.example.com"), Profile = "tls-server", Requester = "fixture", Source = "test" });
        if (warm.Status != RequestStatus.Issued)
        {
            throw new InvalidOperationException("warm-up issuance failed: " + string.Join("; ", warm.Problems));
        }
    }

    public async Task<int> CountAsync(CertificateStatus status) =>
        (await Reader.CountCertificatesAsync()).TryGetValue(status, out var count) ? count : 0;

    public async Task DisposeAsync()
    {
        if (Services is not null)
        {
            await Services.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    public void Dispose() => _directory.Dispose();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IssuanceCollection : ICollectionFixture<IssuanceFixture>
{
    public const string Name = "issuing CA";
}
