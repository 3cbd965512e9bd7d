using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority.Revocation;

namespace MiniCa.Web.Tests;

/// <summary><c>/crl/{ca}.crl</c> serves the CRL from memory, yet a newly published CRL is served at once.</summary>
[Collection(PortalCollection.Name)]
public sealed class CrlEndpointTests(PortalFixture fixture)
{
    [Fact]
    public async Task GetCrl_AfterANewCrlIsPublished_ServesTheNewOneAndAnswersConditionalRequests()
    {
        using var client = fixture.Anonymous();
        await fixture.Services.GetRequiredService<CrlService>().GenerateAsync("issuing", "test");
        using var first = await client.GetAsync("/crl/issuing.crl");
        var firstTag = first.Headers.ETag!;
        var firstBytes = await first.Content.ReadAsByteArrayAsync();

        var published = await fixture.Services.GetRequiredService<CrlService>().GenerateAsync("issuing", "test");
        using var second = await client.GetAsync("/crl/issuing.crl");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.NotEqual(firstTag, second.Headers.ETag);
        Assert.Equal($"\"issuing-{published.Number}\"", second.Headers.ETag!.Tag);
        Assert.Equal(published.Der, await second.Content.ReadAsByteArrayAsync());
        Assert.NotEqual(firstBytes, published.Der);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/crl/issuing.crl");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(second.Headers.ETag.Tag));
        using var notModified = await client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }
}
