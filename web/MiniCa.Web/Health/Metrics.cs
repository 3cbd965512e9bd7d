using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Ledger;
using MiniCa.Core.Telemetry;
using MiniCa.Data;
using MiniCa.Hsm;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace MiniCa.Web.Health;

/// <summary>
/// <c>/metrics</c> (Prometheus text format): MiniCa's counters (requests by outcome, revocations, issuance time),
/// ASP.NET Core's request metrics per route (OCSP, CRL, ACME, API, portal), and gauges read at scrape time: the
/// HSM member's state and counters, the pending requests waiting for officers, and the audit log's integrity.
/// </summary>
internal static class Metrics
{
    public static IServiceCollection AddMiniCaMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("minica")).WithMetrics(metrics => metrics
            .AddMeter(MiniCaMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>Registers the scrape-time gauges (once the services exist) and maps <c>/metrics</c>.</summary>
    public static WebApplication MapMiniCaMetrics(this WebApplication app)
    {
        var cluster = app.Services.GetRequiredService<HsmCluster>();
        var contexts = app.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        MiniCaMetrics.ObserveGauge("minica_hsm_member_up", () => Measure(cluster, s => s.State == HsmMemberState.Up ? 1 : 0), "1 when the HSM member is up (answering and logged in), 0 while it is down.");
        MiniCaMetrics.ObserveGauge("minica_hsm_operations", () => Measure(cluster, s => s.Operations), "Signatures and key operations done by the HSM member.");
        MiniCaMetrics.ObserveGauge("minica_hsm_failures", () => Measure(cluster, s => s.Failures), "Times the HSM member was marked down.");
        MiniCaMetrics.ObserveGauge("minica_hsm_failovers", () => Measure(cluster, s => s.Failovers), "Operations the HSM member took over after another member failed them.");
        MiniCaMetrics.ObserveGauge("minica_hsm_readmissions", () => Measure(cluster, s => s.Readmissions), "Times the HSM member was readmitted after being down.");
        MiniCaMetrics.ObserveGauge("minica_hsm_sessions_open", () => Measure(cluster, s => s.OpenSessions), "Open sessions in the member's pool.");
        MiniCaMetrics.ObserveGauge("minica_requests_pending", () =>
        {
            using var db = contexts.CreateDbContext();
            return [new Measurement<long>(db.Requests.LongCount(r => r.Status == RequestStatus.Pending))];
        }, "Requests waiting for officers.");
        MiniCaMetrics.ObserveGauge("minica_certificates_expiring", () =>
        {
            // Issued and not revoked, ending within the window: what operators alert on before a service breaks.
            using var db = contexts.CreateDbContext();
            var now = DateTimeOffset.UtcNow;
            return ExpiryWindows.Select(window =>
            {
                var end = now.AddDays(window.Days);
                var count = db.Certificates.LongCount(c => c.Status == CertificateStatus.Issued && c.NotAfter > now && c.NotAfter <= end);
                return new Measurement<long>(count, new KeyValuePair<string, object?>("within", window.Label));
            }).ToList();
        }, "Issued, unrevoked certificates whose validity ends within the window (label within: 7d, 30d) from now.");
        MiniCaMetrics.ObserveGauge("minica_authority_not_after_timestamp_seconds", () =>
        {
            using var db = contexts.CreateDbContext();
            return db.Authorities.Where(a => a.Status == MiniCa.Core.Authorities.AuthorityStatus.Active)
                .Select(a => new { a.Name, a.NotAfter }).AsEnumerable()
                .Select(a => new Measurement<long>(a.NotAfter.ToUnixTimeSeconds(), new KeyValuePair<string, object?>("authority", a.Name))).ToList();
        }, "When each active CA certificate expires (Unix time): a new authority must be made and trusted well before.");
        MiniCaMetrics.ObserveGauge("minica_crl_next_update_timestamp_seconds", () =>
        {
            using var db = contexts.CreateDbContext();
            return db.CrlStates.Where(c => c.NextUpdate != null)
                .Select(c => new { c.Authority, c.NextUpdate }).AsEnumerable()
                .Select(c => new Measurement<long>(c.NextUpdate!.Value.ToUnixTimeSeconds(), new KeyValuePair<string, object?>("crl", c.Authority))).ToList();
        }, "nextUpdate of each published CRL (label crl: the authority, or AUTHORITY-delta; Unix time): a time in the past means relying parties hold a stale CRL, and the publisher has stopped.");
        var audit = app.Services.GetRequiredService<MiniCa.Hosting.AuditAnchorLog>();
        MiniCaMetrics.ObserveGauge("minica_audit_signed_anchors_failing", () => audit.State.CheckedAt is null ? [] : [new Measurement<long>(audit.State.FailingSignedAnchors)],
            "Signed anchors in the audit log that the log no longer matches, and recorded audit key rotations that do not hold, at the last full check (Audit:CheckHours): anything above 0 is a changed log.");
        MiniCaMetrics.ObserveGauge("minica_audit_last_check_timestamp_seconds", () => audit.State.CheckedAt is { } at ? [new Measurement<long>(at.ToUnixTimeSeconds())] : [],
            "When the audit log was last checked whole against its signed anchors (Unix time).");
        MiniCaMetrics.ObserveGauge("minica_audit_newest_signed_anchor_timestamp_seconds", () => audit.State.NewestSignedAt is { } at ? [new Measurement<long>(at.ToUnixTimeSeconds())] : [],
            "When the newest signed anchor in the audit log was signed (Unix time): one falling behind means anchors are no longer signed (the HSM away).");
        var backups = app.Services.GetRequiredService<MiniCa.Hosting.ScheduledBackups>();
        MiniCaMetrics.ObserveGauge("minica_backup_last_success_timestamp_seconds", () => backups.State.LastSuccessAt is { } at ? [new Measurement<long>(at.ToUnixTimeSeconds())] : [],
            "When the newest complete scheduled backup (Backup:Directory) was made (Unix time): one falling behind Backup:IntervalMinutes means backups fail.");
        MiniCaMetrics.ObserveGauge("minica_backup_last_failure_timestamp_seconds", () => backups.State.LastFailureAt is { } at ? [new Measurement<long>(at.ToUnixTimeSeconds())] : [],
            "When a scheduled backup last failed, since the host started (Unix time); the error is in the log.");
        MiniCaMetrics.ObserveGauge("minica_backups_kept", () => backups.State.LastSuccessAt is null ? [] : [new Measurement<long>(backups.State.Kept)],
            "Complete scheduled backups in Backup:Directory.");
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }

    private static readonly (int Days, string Label)[] ExpiryWindows = [(7, "7d"), (30, "30d")];

    private static List<Measurement<long>> Measure(HsmCluster cluster, Func<HsmClusterMemberStatus, long> read) =>
        cluster.GetStatus().Select(s => new Measurement<long>(read(s), new KeyValuePair<string, object?>("member", s.Name))).ToList();
}
