using System.Net;
using System.Net.Sockets;
using MiniCa.TestSupport;

namespace MiniCa.Web.Tests;

/// <summary>The start-up check of <c>Urls</c>: each bad entry is named with the reason, a usable one passes.</summary>
public sealed class ListenAddressesTests
{
    [Theory]
    [InlineData("localhost:5000", "is not a URL to listen on")]
    [InlineData("ftp://localhost:2121", "has the scheme 'ftp'")]
    [InlineData("http://localhost:70000", "has the port 70000, out of range")]
    [InlineData("http://localhost:5000/ca", "has a path")]
    [InlineData("http://192.0.2.1:5000", "192.0.2.1 is not an address of this machine")]
    public void Check_BadUrl_NamesTheKeyTheUrlAndTheReason(string url, string reason)
    {
        var problem = Assert.Single(ListenAddresses.Check(url, hasServerCertificate: false));

        Assert.StartsWith($"Urls: '{url}' ", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_FreePortsAndSockets_HaveNoProblem()
    {
        var urls = $"http://localhost:{FreePort.Next()}; http://127.0.0.1:{FreePort.Next()};http://*:{FreePort.Next()};http://unix:/run/minica.sock;http://localhost:0";

        Assert.Empty(ListenAddresses.Check(urls, hasServerCertificate: false));
    }

    [Fact]
    public void Check_PortListenedOn_IsNamedForEachUrlThatWantsIt()
    {
        var port = FreePort.Next();
        using var holder = new TcpListener(IPAddress.Loopback, port);
        holder.Start();

        var problems = ListenAddresses.Check($"http://localhost:{port};http://+:{port};http://127.0.0.1:{FreePort.Next()}", hasServerCertificate: false);

        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Contains($"port {port} is in use by another process", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Check_HttpsUrl_NeedsAConfiguredCertificate()
    {
        var url = $"https://localhost:{FreePort.Next()}";

        Assert.Contains("no server certificate is configured: set Kestrel:Certificates:Default:Path", Assert.Single(ListenAddresses.Check(url, hasServerCertificate: false)), StringComparison.Ordinal);
        Assert.Empty(ListenAddresses.Check(url, hasServerCertificate: true));
    }

    [Fact]
    public void Check_NoUrl_IsAProblem()
    {
        Assert.Contains("no URL to listen on", Assert.Single(ListenAddresses.Check(" ; ", hasServerCertificate: false)), StringComparison.Ordinal);
    }
}
