using System.Diagnostics.Metrics;

namespace MiniCa.Core.Telemetry;

/// <summary>
/// MiniCa's own metrics (System.Diagnostics.Metrics, meter <c>MiniCa</c>), exported by the web host at
/// <c>/metrics</c> in the Prometheus format. Counters only count; nothing secret is ever a tag.
/// </summary>
public static class MiniCaMetrics
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "MiniCa";

    private static readonly Meter Meter = new(MeterName, "1.0");

    /// <summary>Requests by outcome (<c>issued</c>, <c>pending</c>, <c>rejected</c>, <c>failed</c>), door and profile.</summary>
    public static Counter<long> Requests { get; } = Meter.CreateCounter<long>("minica_requests", description: "Certificate requests by outcome, source and profile.");

    /// <summary>Revocations by reason.</summary>
    public static Counter<long> Revocations { get; } = Meter.CreateCounter<long>("minica_revocations", description: "Certificates revoked, by RFC 5280 reason.");

    /// <summary>OCSP requests answered (kept out of the per-route HTTP histograms, which cost a fifth of the OCSP throughput).</summary>
    public static Counter<long> OcspRequests { get; } = Meter.CreateCounter<long>("minica_ocsp_requests", description: "OCSP requests answered.");

    /// <summary>Time from CSR received to certificate committed, in milliseconds.</summary>
    public static Histogram<double> IssuanceDuration { get; } = Meter.CreateHistogram<double>("minica_issuance_duration", "ms", "CSR in to committed certificate out.");

    /// <summary>Registers an observable gauge on the meter (the host adds HSM and queue gauges).</summary>
    public static void ObserveGauge(string name, Func<IEnumerable<Measurement<long>>> observe, string description)
    {
        ArgumentNullException.ThrowIfNull(observe);
        Meter.CreateObservableGauge(name, observe, description: description);
    }

    /// <summary>Registers an observable counter (a running total read when the metrics are collected).</summary>
    public static void ObserveCounter(string name, Func<IEnumerable<Measurement<double>>> observe, string unit, string description)
    {
        ArgumentNullException.ThrowIfNull(observe);
        Meter.CreateObservableCounter(name, observe, unit, description);
    }
}
