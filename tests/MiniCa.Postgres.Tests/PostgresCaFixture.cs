using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;
using MiniCa.TestSupport;
using Org.BouncyCastle.X509;

namespace MiniCa.Postgres.Tests;

/// <summary>
/// A whole CA in this process on a throw-away PostgreSQL server: embedded SoftHSM2 token (this process's only
/// store), <c>Database:Provider</c> <c>Postgres</c>, the key ceremony run. Its own test project, so that its token
/// store is the only one its process opens.
/// </summary>
public sealed class PostgresCaFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new("minica-pg-ca");

    public PostgresServer Server { get; private set; } = null!;

    public ServiceProvider Services { get; private set; } = null!;

    public IssuanceService Issuance => Services.GetRequiredService<IssuanceService>();

    public IIssuanceReader Reader => Services.GetRequiredService<IIssuanceReader>();

    public RevocationService Revocation => Services.GetRequiredService<RevocationService>();

    public X509Certificate Issuing { get; private set; } = null!;

    public string ConfigFile => _directory.Combine("ca.config.json");

    public string CaDirectory => _directory.Combine("data", "ca");

    public string WorkDirectory => _directory.Path;

    public const string Database = "ca";

    public async Task InitializeAsync()
    {
        Prerequisites.RequireSoftHsm();
        Server = await PostgresServer.StartAsync();
        await Server.CreateDatabaseAsync(Database);
        File.WriteAllText(ConfigFile, $$"""
            { "DataDirectory": "data", "PublicBaseUrl": "http://ca.example.test/",
              "PoliciesDirectory": "{{TestPolicies.Prepare(_directory.Path)}}",
              "Database": { "Provider": "Postgres", "ConnectionString": "{{Server.ConnectionString(Database)}}" } }
            """);
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddMiniCa(MiniCaConfiguration.Load(["--config", ConfigFile]));
        Services = services.BuildServiceProvider();
        await Services.GetRequiredService<CaBootstrapper>().InitializeAsync();
        Issuing = new X509CertificateParser().ReadCertificate(File.ReadAllBytes(Path.Combine(CaDirectory, "issuing.crt")));
    }

    public async Task DisposeAsync()
    {
        if (Services is not null)
        {
            await Services.DisposeAsync();
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        _directory.Dispose();
    }

    public void Dispose() => _directory.Dispose();
}
