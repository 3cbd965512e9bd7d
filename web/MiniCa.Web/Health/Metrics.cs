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
/// HSM member's state and counters, and the pending requests waiting for officers.
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
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }

    private static List<Measurement<long>> Measure(HsmCluster cluster, Func<HsmClusterMemberStatus, long> read) =>
        cluster.GetStatus().Select(s => new Measurement<long>(read(s), new KeyValuePair<string, object?>("member", s.Name))).ToList();
}
