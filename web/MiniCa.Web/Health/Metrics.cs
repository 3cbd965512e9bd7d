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

    private static List<Measurement<long>> Measure(HsmCluster cluster, Func<HsmClusterMemberStatus, long> read) =>
        cluster.GetStatus().Select(s => new Measurement<long>(read(s), new KeyValuePair<string, object?>("member", s.Name))).ToList();
}
