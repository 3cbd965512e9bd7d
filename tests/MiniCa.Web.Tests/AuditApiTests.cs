using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Ledger;

namespace MiniCa.Web.Tests;

/// <summary>
/// The audit log through the API, on both databases: a SIEM reads it in id order and can run the audit chain over
/// what it read; a monitor checks its integrity against an anchor and the signed anchors stored in it.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AuditApiTests(PortalFixture fixture)
{
    [Fact]
    public async Task Events_ReadInRunsToTheEnd_CarryWhatTheChainHashes()
    {
        using var audrey = await fixture.ApiClientAsync("audrey", "audit-api");
        var read = new List<JsonElement>();
        long? after = 0;
        var runs = 0;
        while (after is { } from)
        {
            var run = await audrey.GetFromJsonAsync<JsonElement>($"/api/v1/audit/events?after={from}&limit=7");
            var events = run.GetProperty("events").EnumerateArray().ToList();
            Assert.True(events.Count <= 7);
            read.AddRange(events);
            after = run.GetProperty("next").ValueKind == JsonValueKind.Null ? null : run.GetProperty("next").GetInt64();
            Assert.True(after is null || after == events[^1].GetProperty("id").GetInt64());
            runs++;
        }

        Assert.True(runs >= 2, $"{read.Count} events in {runs} run(s)");
        var ids = read.Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.Order().Distinct(), ids);

        // What the API gave is enough to run the chain: the stored log holds the anchor computed from it (a JSON time
        // that lost a digit, or a field left out, would not).
        var value = AuditChain.Start.ToArray();
        foreach (var e in read)
        {
            value = AuditChain.Next(value, new AuditChainEvent(e.GetProperty("id").GetInt64(), e.GetProperty("at").GetDateTimeOffset(),
                e.GetProperty("actor").GetString()!, e.GetProperty("action").GetString()!, e.GetProperty("subject").GetString()!, e.GetProperty("details").GetString()!));
        }

        var computed = new AuditAnchor(ids[^1], Convert.ToHexStringLower(value));
        var check = await fixture.Services.GetRequiredService<MiniCa.Hosting.AuditLogIntegrity>().CheckAsync([computed], DateTimeOffset.UtcNow);
        Assert.True(check.GivenAnchors.Single().Holds, check.GivenAnchors.Single().Problem);
    }

    [Fact]
    public async Task Integrity_AnAnchorHolds_AChangedEventFailsIt_AndTheSignedAnchors()
    {
        using var audrey = await fixture.ApiClientAsync("audrey", "audit-api");
        var integrity = fixture.Services.GetRequiredService<MiniCa.Hosting.AuditLogIntegrity>();
        await integrity.SignAsync((await integrity.CheckAsync([], DateTimeOffset.UtcNow)).Chain.Head!);

        var first = await audrey.GetFromJsonAsync<JsonElement>("/api/v1/audit/integrity");
        Assert.True(first.GetProperty("intact").GetBoolean(), first.ToString());
        var anchor = first.GetProperty("head").GetProperty("anchor").GetString()!;
        var eventId = first.GetProperty("head").GetProperty("eventId").GetInt64();
        Assert.True(first.GetProperty("signedAnchors").GetProperty("count").GetInt32() >= 1, first.ToString());
        Assert.Equal("audit", first.GetProperty("signedAnchors").GetProperty("newest").GetProperty("key").GetString());
        Assert.Equal(JsonValueKind.Array, first.GetProperty("keyRotations").ValueKind);
        Assert.Equal(0, first.GetProperty("keyRotations").GetArrayLength());

        var holds = await audrey.GetFromJsonAsync<JsonElement>($"/api/v1/audit/integrity?anchor={anchor}");
        Assert.True(holds.GetProperty("intact").GetBoolean(), holds.ToString());
        Assert.True(holds.GetProperty("anchors")[0].GetProperty("holds").GetBoolean());

        await using (await ChangedAuditEvent.ChangeAsync(fixture.Services, 1, " "))
        {
            var broken = await audrey.GetFromJsonAsync<JsonElement>($"/api/v1/audit/integrity?anchor={anchor}");
            Assert.False(broken.GetProperty("intact").GetBoolean(), broken.ToString());
            Assert.False(broken.GetProperty("anchors")[0].GetProperty("holds").GetBoolean());
            Assert.Contains($"up to event {eventId} the log now hashes to ", broken.GetProperty("anchors")[0].GetProperty("problem").GetString(), StringComparison.Ordinal);
            var failing = broken.GetProperty("signedAnchors").GetProperty("failing");
            Assert.True(failing.GetArrayLength() >= 1, broken.ToString());
            Assert.Contains("the log now hashes to", failing[0].GetProperty("problem").GetString(), StringComparison.Ordinal);
        }

        Assert.True((await audrey.GetFromJsonAsync<JsonElement>($"/api/v1/audit/integrity?anchor={anchor}")).GetProperty("intact").GetBoolean());
    }

    [Theory]
    [InlineData("/api/v1/audit/events?limit=0", "'limit' 0 is out of range (1..1000).")]
    [InlineData("/api/v1/audit/events?limit=1001", "'limit' 1001 is out of range (1..1000).")]
    [InlineData("/api/v1/audit/events?after=-1", "'after' -1 is not 0 or an event id.")]
    [InlineData("/api/v1/audit/integrity?anchor=12:abc", "'anchor' '12:abc' is not ID:HASH (a decimal event id, a colon and 64 hex digits).")]
    public async Task BadQueries_AreProblemsSayingWhat(string path, string detail)
    {
        using var audrey = await fixture.ApiClientAsync("audrey", "audit-api");
        using var response = await audrey.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(detail, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }
}
