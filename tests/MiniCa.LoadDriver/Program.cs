using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Issuance;
using MiniCa.Core.Ledger;
using MiniCa.Hosting;

// A CA process that issues under load until it is killed: the subject of the crash tests. It starts the CA of
// ca.config.json in the working directory (the key ceremony on first start), keeps the requests in flight that
// the first argument says, and prints "issued SERIAL SHA256" for each certificate only once SubmitAsync has
// returned it, i.e. once its row is committed; a test that kills it then checks every printed certificate.
var inFlight = args.Length == 1 && int.TryParse(args[0], out var n) && n > 0
    ? n
    : throw new ArgumentException("usage: MiniCa.LoadDriver REQUESTS-IN-FLIGHT (run in the folder of a ca.config.json)");

var services = new ServiceCollection();
services.AddLogging();
services.AddMiniCa(MiniCaConfiguration.Load(["--config", "ca.config.json"]));
await using var provider = services.BuildServiceProvider();
await provider.GetRequiredService<CaBootstrapper>().StartAsync();
var issuance = provider.GetRequiredService<IssuanceService>();

var csrs = Enumerable.Range(0, 128).Select(i => Csr($"load-{i}.example.internal")).ToArray();
Console.WriteLine("ready");
await Task.WhenAll(Enumerable.Range(0, inFlight).Select(worker => Task.Run(async () =>
{
    for (var i = worker; ; i += inFlight)
    {
        var outcome = await issuance.SubmitAsync(new IssuanceSubmission { Csr = csrs[i % csrs.Length], Profile = "tls-server", Requester = $"load-{worker}", Source = "load" });
        if (outcome.Status != RequestStatus.Issued)
        {
            Console.WriteLine($"failed {outcome.Status}: {string.Join("; ", outcome.Problems)}");
            Environment.Exit(2);
        }

        Console.WriteLine($"issued {outcome.SerialHex} {Convert.ToHexStringLower(SHA256.HashData(outcome.Certificate!))}");
    }
})));

static byte[] Csr(string name)
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
    var names = new SubjectAlternativeNameBuilder();
    names.AddDnsName(name);
    request.CertificateExtensions.Add(names.Build());
    return request.CreateSigningRequest();
}
