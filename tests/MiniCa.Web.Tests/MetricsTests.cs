using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Ledger;
using MiniCa.Hosting.Users;
using MiniCa.Web.Portal;

namespace MiniCa.Web.Tests;

/// <summary><c>/metrics</c> in the Prometheus text format, with MiniCa's counters and the HSM gauges.</summary>
[Collection(PortalCollection.Name)]
public sealed class MetricsTests(PortalFixture fixture)
{
    [Fact]
    public async Task Metrics_AfterAnIssuance_CountersAndHsmGauges()
    {
        var requester = TestUsers.Principal("rita", PortalRoles.Requester);
        var outcome = await fixture.Services.GetRequiredService<RequestService>().SubmitAsync(requester, "tls-server", Encoding.ASCII.GetBytes(PortalFixture.CsrPem("metrics.example.com")), "api", null);
        Assert.Equal(RequestStatus.Issued, outcome.Status);
        // A name that is no profile is counted as "unknown", not as a series of its own that anyone could add.
        var unknown = await fixture.Services.GetRequiredService<RequestService>().SubmitAsync(requester, "no-such-profile-7f3a", Encoding.ASCII.GetBytes(PortalFixture.CsrPem("metrics.example.com")), "api", null);
        Assert.Equal(RequestStatus.Rejected, unknown.Status);

        using var client = fixture.Anonymous();
        using (await client.GetAsync("/healthz"))
        {
        }

        using (var ocsp = await client.GetAsync("/ocsp/bm90LWEtcmVxdWVzdA"))
        {
            // A malformed OCSP request is an OCSP malformedRequest response, with HTTP 200 (RFC 6960 A.1).
            Assert.Equal(System.Net.HttpStatusCode.OK, ocsp.StatusCode);
            Assert.Equal("application/ocsp-response", ocsp.Content.Headers.ContentType?.MediaType);
        }

        var text = string.Empty;
        // The exporter caches a scrape briefly; the counter shows up on a later one (and the audit gauges once the
        // host's first pass over the log has run).
        for (var i = 0; i < 50 && !(text.Contains("minica_requests_total{", StringComparison.Ordinal) && text.Contains("http_server_request_duration_seconds", StringComparison.Ordinal) && text.Contains("minica_ocsp_requests_total", StringComparison.Ordinal) && text.Contains("minica_issuance_writer_seconds", StringComparison.Ordinal) && text.Contains("minica_audit_newest_signed_anchor_timestamp_seconds", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(200);
            text = await client.GetStringAsync("/metrics");
        }

        Assert.Contains("minica_requests_total{", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"issued\"", text, StringComparison.Ordinal);
        Assert.Matches("minica_requests_total\\{[^}]*outcome=\"rejected\"[^}]*profile=\"unknown\"", text);
        Assert.DoesNotContain("no-such-profile-7f3a", text, StringComparison.Ordinal);
        Assert.Matches("minica_hsm_member_up\\{[^}]*member=\"embedded\"[^}]*\\} 1", text);
        Assert.Contains("minica_requests_pending", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);
        Assert.Contains("minica_ocsp_requests_total", text, StringComparison.Ordinal);

        // The issuance database's writer: the issuance above ran statements on it (both providers), so that state's
        // total is above zero.
        var statements = System.Text.RegularExpressions.Regex.Match(text, "minica_issuance_writer_seconds_total\\{[^}]*state=\"statements\"[^}]*\\} ([0-9.eE+-]+)");
        Assert.True(statements.Success, "no writer time in /metrics:\n" + text);
        Assert.True(double.Parse(statements.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, statements.Value);
        Assert.Contains("state=\"idle\"", text, StringComparison.Ordinal);

        // The audit log's full check ran at start and found nothing changed; the host signed an anchor then.
        Assert.Matches(@"(?m)^minica_audit_signed_anchors_failing(\{[^}]*\})? 0$", text);
        Assert.Matches(@"(?m)^minica_audit_last_check_timestamp_seconds(\{[^}]*\})? \d{10}$", text);
        Assert.Matches(@"(?m)^minica_audit_newest_signed_anchor_timestamp_seconds(\{[^}]*\})? \d{10}$", text);
    }
}
