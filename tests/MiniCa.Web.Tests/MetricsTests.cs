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

    [Fact]
    public async Task Metrics_ExpiryGauges_CountEndingCertificates_AndGiveTheCaAndCrlDatesTheFilesCarry()
    {
        using var client = fixture.Anonymous();

        // The issuing CA's notAfter and the published CRL's nextUpdate, as the files served to relying parties say.
        var issuing = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(await client.GetByteArrayAsync("/ca/issuing.crt"));
        var caNotAfter = new DateTimeOffset(issuing.NotAfter, TimeSpan.Zero).ToUnixTimeSeconds();
        string text;
        long crlNextUpdate;
        var attempts = 0;
        do
        {
            // The publisher may renew the CRL between the two reads: read until both agree.
            var crl = new Org.BouncyCastle.X509.X509CrlParser().ReadCrl(await client.GetByteArrayAsync("/crl/issuing.crl"));
            crlNextUpdate = new DateTimeOffset(crl.NextUpdate!.Value, TimeSpan.Zero).ToUnixTimeSeconds();
            text = await client.GetStringAsync("/metrics");
        }
        while (Gauge(text, "minica_crl_next_update_timestamp_seconds", "crl=\"issuing\"") != crlNextUpdate && ++attempts < 50 && await Delay());

        Assert.Equal(caNotAfter, Gauge(text, "minica_authority_not_after_timestamp_seconds", "authority=\"issuing\""));
        Assert.Equal(crlNextUpdate, Gauge(text, "minica_crl_next_update_timestamp_seconds", "crl=\"issuing\""));
        Assert.True(Gauge(text, "minica_authority_not_after_timestamp_seconds", "authority=\"root\"") >= caNotAfter, text);

        // A certificate of 5 days counts in both windows; one of the profile's default 90 days in neither.
        var week = Gauge(text, "minica_certificates_expiring", "within=\"7d\"");
        var month = Gauge(text, "minica_certificates_expiring", "within=\"30d\"");
        Assert.True(month >= week, text);
        var requests = fixture.Services.GetRequiredService<RequestService>();
        var requester = TestUsers.Principal("rita", PortalRoles.Requester);
        Assert.Equal(RequestStatus.Issued, (await requests.SubmitAsync(requester, "tls-server", Encoding.ASCII.GetBytes(PortalFixture.CsrPem("ends-soon.example.com")), "api", 5)).Status);
        Assert.Equal(RequestStatus.Issued, (await requests.SubmitAsync(requester, "tls-server", Encoding.ASCII.GetBytes(PortalFixture.CsrPem("ends-later.example.com")), "api", null)).Status);
        attempts = 0;
        do
        {
            // The exporter caches a scrape briefly.
            text = await client.GetStringAsync("/metrics");
        }
        while (Gauge(text, "minica_certificates_expiring", "within=\"7d\"") == week && ++attempts < 100 && await Delay());

        Assert.Equal(week + 1, Gauge(text, "minica_certificates_expiring", "within=\"7d\""));
        Assert.Equal(month + 1, Gauge(text, "minica_certificates_expiring", "within=\"30d\""));
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }

    /// <summary>The value of <paramref name="name"/>'s series whose labels include <paramref name="label"/>; -1 when there is none.</summary>
    private static long Gauge(string text, string name, string label)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text, $"(?m)^{name}\\{{[^}}]*{System.Text.RegularExpressions.Regex.Escape(label)}[^}}]*\\}} ([0-9]+)");
        return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }
}
