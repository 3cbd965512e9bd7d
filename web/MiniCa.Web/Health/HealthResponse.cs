using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MiniCa.Web.Health;

/// <summary>The JSON body of <c>/healthz</c>: overall status and one entry per check (a change of a check's status is logged).</summary>
internal static class HealthResponse
{
    internal static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.RequestServices.GetRequiredService<HealthTransitions>().Observe(report);
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
