using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Authority.Issuance;
using MiniCa.Hosting;
using MiniCa.Hsm;
using MiniCa.TestSupport;

namespace MiniCa.Cluster.Tests;

/// <summary>
/// A whole CA over a two-member HSM cluster: tokens A and B, each a SoftHSM2 token in its own store served out of
/// process by p11-kit (so a member can really die). The key ceremony runs on A with copyable keys; the keys are
/// then copied to B with the modules themselves (two private SoftHSM2 copies: p11-kit's RPC carries no AES
/// key-wrap mechanism).
/// </summary>
public sealed class ClusterCa : IAsyncDisposable
{
    private static readonly ECDsa SubscriberKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly TempDirectory _directory = new("minica-cluster");

    private ClusterCa()
    {
        A = new P11KitToken(_directory.Path, "ClusterA");
        B = new P11KitToken(_directory.Path, "ClusterB");
    }

    public P11KitToken A { get; }

    public P11KitToken B { get; }

    public ServiceProvider Services { get; private set; } = null!;

    public HsmCluster Cluster => Services.GetRequiredService<HsmCluster>();

    public IssuanceService Issuance => Services.GetRequiredService<IssuanceService>();

    public string CaDirectory => _directory.Combine("data", "ca");

    public string WorkDirectory => _directory.Path;

    /// <summary>Starts both servers, runs the ceremony on A and copies the keys to B.</summary>
    public static async Task<ClusterCa> StartAsync(int probeSeconds = 1, int timeoutSeconds = 2)
    {
        var ca = await CreateAsync(direct: false, quorum: 1, probeSeconds, timeoutSeconds);
        using (var source = HsmMember.Connect(ca.A.DirectSettings("a-direct")))
        using (var target = HsmMember.Connect(ca.B.DirectSettings("b-direct")))
        {
            var copied = KeyReplicator.Copy(source, target, ["root", "issuing"], ca.Cluster.ReferenceKey);
            if (copied.Any(c => c.Outcome != "copied"))
            {
                throw new InvalidOperationException(string.Join(" ", copied.Select(c => c.Detail)));
            }
        }

        ca.Cluster["b"].ForgetKeys();
        return ca;
    }

    /// <summary>
    /// A CA whose two members open their token stores with SoftHSM2 itself (private module copies), with the
    /// ceremony run on A only: B starts empty, for add-member and sync.
    /// </summary>
    public static Task<ClusterCa> StartDirectAsync(int quorum) => CreateAsync(direct: true, quorum, probeSeconds: 1, timeoutSeconds: 5);

    private static async Task<ClusterCa> CreateAsync(bool direct, int quorum, int probeSeconds, int timeoutSeconds)
    {
        var ca = new ClusterCa();
        if (!direct)
        {
            ca.A.Start();
            ca.B.Start();
        }

        TestPolicies.Prepare(ca._directory.Path);
        var config = ca._directory.Combine("ca.config.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            DataDirectory = "data",
            PublicBaseUrl = "http://ca.example.test/",
            Hsm = new
            {
                Members = new[] { ca.A.MemberConfig("a", direct), ca.B.MemberConfig("b", direct) },
                CopyableKeys = true,
                QuorumApprovals = quorum,
                OperationTimeoutSeconds = timeoutSeconds,
                ProbeIntervalSeconds = probeSeconds,
                MaxSessions = 8,
            },
        }));

        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddMiniCa(MiniCaConfiguration.Load(["--config", config]));
        ca.Services = services.BuildServiceProvider();
        await ca.Services.GetRequiredService<CaBootstrapper>().InitializeAsync();
        return ca;
    }

    /// <summary>Issues one tls-server certificate for <paramref name="name"/>.</summary>
    public async Task<IssuanceOutcome> IssueAsync(string name)
    {
        var request = new CertificateRequest("CN=" + name, SubscriberKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return await Issuance.SubmitAsync(new IssuanceSubmission { Csr = request.CreateSigningRequest(), Profile = "tls-server", Requester = "cluster-test", Source = "test" });
    }

    public async ValueTask DisposeAsync()
    {
        if (Services is not null)
        {
            await Services.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        A.Dispose();
        B.Dispose();
        _directory.Dispose();
    }
}
