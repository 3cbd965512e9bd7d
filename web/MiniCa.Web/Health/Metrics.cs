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
        var member = app.Services.GetRequiredService<HsmMember>();
        var contexts = app.Services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        MiniCaMetrics.ObserveGauge("minica_hsm_member_up", () => [Measure(member, s => s.LoggedIn ? 1 : 0)], "1 when the HSM member answers and is logged in.");
        MiniCaMetrics.ObserveGauge("minica_hsm_operations", () => [Measure(member, s => s.Operations)], "Signatures and key operations done by the HSM member.");
        MiniCaMetrics.ObserveGauge("minica_hsm_recoveries", () => [Measure(member, s => s.Recoveries)], "Sessions re-opened after a device or session failure.");
        MiniCaMetrics.ObserveGauge("minica_hsm_sessions_open", () => [Measure(member, s => s.OpenSessions)], "Open sessions in the member's pool.");
        MiniCaMetrics.ObserveGauge("minica_requests_pending", () =>
        {
            using var db = contexts.CreateDbContext();
            return [new Measurement<long>(db.Requests.LongCount(r => r.Status == RequestStatus.Pending))];
        }, "Requests waiting for officers.");
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }

    private static Measurement<long> Measure(HsmMember member, Func<HsmMemberStatus, long> read)
    {
        var tag = new KeyValuePair<string, object?>("member", member.Name);
        try
        {
            return new Measurement<long>(read(member.GetStatus()), tag);
        }
        catch (Exception ex) when (ex is MiniCa.Core.Errors.CaException or Net.Pkcs11Interop.Common.Pkcs11Exception)
        {
            return new Measurement<long>(0, tag);
        }
    }
}
