using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Ledger;
using MiniCa.Data.Queries;
using MiniCa.Hosting.Users;
using MiniCa.Web.Portal;

namespace MiniCa.Web.Tests;

/// <summary>The name search behind the portal and the API: a name's start, or a whole domain, from the index.</summary>
[Collection(PortalCollection.Name)]
public sealed class SearchTests(PortalFixture fixture)
{
    private static readonly ClaimsPrincipal Officer = TestUsers.Principal("oscar", PortalRoles.Officer);
    private static readonly ClaimsPrincipal Requester = TestUsers.Principal("rita", PortalRoles.Requester);

    [Fact]
    public async Task Search_ByDomainByPrefixAndHostile_FindsExactlyThose()
    {
        var requests = fixture.Services.GetRequiredService<RequestService>();
        foreach (var name in new[] { "a.search.example.com", "b.search.example.com", "search.example.org" })
        {
            var outcome = await requests.SubmitAsync(Requester, "tls-server", Encoding.ASCII.GetBytes(PortalFixture.CsrPem(name)), "test", null);
            Assert.Equal(RequestStatus.Issued, outcome.Status);
        }

        var certificates = fixture.Services.GetRequiredService<CertificateService>();
        async Task<IReadOnlyList<string>> FindAsync(string text) =>
            (await certificates.SearchAsync(Officer, new CertificateQuery { Text = text, PageSize = 50 })).Items.SelectMany(c => c.Identifiers).Order().ToList();

        Assert.Equal(["dns:a.search.example.com", "dns:b.search.example.com"], await FindAsync("search.example.com"));
        Assert.Equal(["dns:a.search.example.com"], await FindAsync("A.Search"));
        Assert.Equal(["dns:search.example.org"], await FindAsync("dns:search.example.org"));
        Assert.Empty(await FindAsync("%"));
        Assert.Empty(await FindAsync("' OR 1=1 --"));
        Assert.Empty(await FindAsync(new string('x', 5000)));

        // Requesters search only their own.
        var own = await certificates.SearchAsync(Requester, new CertificateQuery { Text = "search.example.com" });
        Assert.Equal(2, own.Total);
        var queue = await requests.ListAsync(Officer, new RequestQuery { Text = "search.example.org" });
        Assert.Equal(1, queue.Total);
    }
}
