using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MiniCa.Core.Configuration;
using MiniCa.Data;
using MiniCa.Hosting;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Tests;

/// <summary>
/// The audit log page's integrity panel, in Chromium, on both databases: the anchor to keep now, the log checked
/// against it and against the signed anchors stored in it, a stored event changed and changed back.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class AuditChainPortalTests(PortalFixture fixture)
{
    [Fact]
    public async Task Portal_AuditorChecksTheLogAgainstAnAnchor_AChangedEventShows()
    {
        await using var browser = await BrowserSession.StartAsync();
        var auditor = await browser.SignInAsync(fixture.BaseAddress, PortalFixture.UserOf[PortalRoles.Auditor], PortalFixture.Password);
        await BrowserSession.GoAsync(auditor, "/audit");
        var field = auditor.Locator("[data-testid=audit-anchor] input, input[data-testid=audit-anchor]").First;
        var check = auditor.Locator("[data-testid=audit-check]");

        // No anchor given: the anchor to keep now.
        await check.ClickAsync();
        var value = auditor.Locator("[data-testid=audit-anchor-value]");
        await Assertions.Expect(value).ToHaveTextAsync(AnchorText());
        var anchor = (await value.TextContentAsync())!.Trim();
        var eventId = long.Parse(anchor[..anchor.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);

        // Checked against it: it holds, while events written since move the anchor on.
        await field.FillAsync(anchor);
        await check.ClickAsync();
        var result = auditor.Locator("[data-testid=audit-anchor-result]");
        await Assertions.Expect(result).ToHaveTextAsync($"Anchor {eventId} holds: nothing up to event {eventId} changed.");
        await BrowserSession.ScreenshotAsync(auditor, "45-audit-chain");

        // One stored event changed (as a database administrator could): the anchor no longer holds; changed back, it does.
        await using (await ChangedAuditEvent.ChangeAsync(fixture.Services, eventId, "."))
        {
            await check.ClickAsync();
            await Assertions.Expect(result).ToContainTextAsync($"The log does not match anchor {eventId}: up to event {eventId} the log now hashes to ");
            await Assertions.Expect(result).ToContainTextAsync("was changed, removed or inserted since the anchor was taken");
        }

        await check.ClickAsync();
        await Assertions.Expect(result).ToHaveTextAsync($"Anchor {eventId} holds: nothing up to event {eventId} changed.");

        // The signed anchors stored in the log are checked too: a change under one shows with no anchor given.
        var integrity = fixture.Services.GetRequiredService<AuditLogIntegrity>();
        var head = (await integrity.CheckAsync([], DateTimeOffset.UtcNow)).Chain.Head!;
        await integrity.SignAsync(head);
        await field.FillAsync(string.Empty);
        await check.ClickAsync();
        var signed = auditor.Locator("[data-testid=audit-signed]");
        var auditKey = MiniCa.Core.Keys.PublicKeyFingerprint.Sha256(integrity.PublicKey());
        await Assertions.Expect(signed).ToContainTextAsync($"signed anchor(s) in the log, each signed with the HSM's key 'audit' (SHA-256 {auditKey}; `minica audit key` gives its public half) and held by the log. The newest covers it up to event ");
        await using (await ChangedAuditEvent.ChangeAsync(fixture.Services, 1, "."))
        {
            await check.ClickAsync();
            await Assertions.Expect(signed.First).ToContainTextAsync("The log does not match the signed anchor in event ");
            await Assertions.Expect(signed.First).ToContainTextAsync(": up to event ");
        }

        // Until the new check renders, the two failures above are still on the page.
        await check.ClickAsync();
        await Assertions.Expect(signed).ToHaveCountAsync(1);
        await Assertions.Expect(signed).ToContainTextAsync("held by the log");

        // Not an anchor: said at the field, nothing checked.
        await field.FillAsync(anchor[..^1]);
        await check.ClickAsync();
        await Assertions.Expect(auditor.Locator("[data-testid=audit-chain]")).ToContainTextAsync("Not ID:HASH");
        await Assertions.Expect(result).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task HostPass_ChecksTheWholeLogAgainEveryCheckHours_AndCountsTheSignedAnchorsItFails()
    {
        // The clock jumps ahead, and the settled window grows with it, so that every pass stops at the events written
        // before the test began: the pass made while an event is changed finds nothing new to sign (an anchor signed
        // over the changed log would fail once it is put back, for the tests that come after).
        var start = DateTimeOffset.UtcNow;
        var clock = new Clock { Now = start };
        var options = new CaOptions { Audit = new AuditOptions { CheckHours = 1, AnchorSettledSeconds = 0 } };
        var pass = new AuditAnchorLog(fixture.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>(), fixture.Services.GetRequiredService<AuditLogIntegrity>(),
            options, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditAnchorLog>.Instance);
        Assert.Null(pass.State.CheckedAt);

        await pass.LogOnceAsync();
        var first = pass.State;
        Assert.Equal(start, first.CheckedAt);
        Assert.Equal(0, first.FailingSignedAnchors);
        Assert.NotNull(first.NewestSignedAt);

        // Under the hour: the pass goes on from its anchor and does not check the whole log again.
        clock.Now = start.AddMinutes(59);
        options.Audit.AnchorSettledSeconds = 59 * 60;
        await pass.LogOnceAsync();
        Assert.Equal(start, pass.State.CheckedAt);

        await using (await ChangedAuditEvent.ChangeAsync(fixture.Services, 1, "!"))
        {
            // The hour past: the whole log again, and the change under the signed anchors shows.
            clock.Now = start.AddMinutes(60);
            options.Audit.AnchorSettledSeconds = 60 * 60;
            var newest = pass.State.NewestSignedAt;
            await pass.LogOnceAsync();
            Assert.Equal(clock.Now, pass.State.CheckedAt);
            Assert.True(pass.State.FailingSignedAnchors >= 1, $"{pass.State}");
            Assert.Equal(newest, pass.State.NewestSignedAt);
        }
    }

    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [GeneratedRegex(@"^\s*\d+:[0-9a-f]{64}\s*$")]
    private static partial Regex AnchorText();
}
