using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using MiniCa.Authority.Ocsp;
using MiniCa.Core.Errors;
using MiniCa.Hosting;
using MiniCa.Web;
using MiniCa.Web.Health;

LoadedConfiguration loaded;
try
{
    loaded = MiniCaConfiguration.Load(args);
}
catch (CaException ex)
{
    await Console.Error.WriteLineAsync("minica-web: error: " + ex.Message);
    return 1;
}

// Content root is the application's folder (appsettings.json), whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = MiniCaConfiguration.CommandArguments(args),
    ContentRootPath = AppContext.BaseDirectory,
});
// ca.config.json may carry host sections (Logging, Kestrel); MINICA_ variables and overrides apply on top.
builder.Configuration.AddConfiguration(loaded.Configuration);
builder.WebHost.UseUrls(loaded.Options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
builder.Services.AddMiniCa(loaded);
builder.Services.AddSingleton<CrlPublisher>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<CrlPublisher>());
builder.Services.AddHostedService<OcspPreSigner>();
builder.Services.AddProblemDetails();
builder.Services.AddHealthChecks()
    .AddCheck<HsmHealthCheck>("hsm")
    .AddCheck<DatabaseHealthCheck>("database");

var app = builder.Build();
try
{
    await app.Services.GetRequiredService<CaBootstrapper>().StartAsync(app.Lifetime.ApplicationStopping);
    // The delegated OCSP signer is issued (or renewed) before the first request, so failures show at start.
    await app.Services.GetRequiredService<OcspResponderCertificate>().GetAsync(app.Lifetime.ApplicationStopping);
    await app.Services.GetRequiredService<CrlPublisher>().PublishDueAsync(app.Lifetime.ApplicationStopping);
}
catch (CaException ex)
{
    // A start-up failure is one line a person can act on, never a stack trace.
    app.Logger.LogCritical("MiniCa cannot start: {Reason}", ex.Message);
    await Console.Error.WriteLineAsync("minica-web: error: " + ex.Message.ReplaceLineEndings(" "));
    return 1;
}

app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapGet("/", PortalPlaceholder.RenderAsync).ExcludeFromDescription();
app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync });
app.MapCaEndpoints();
app.MapOcspEndpoints();

await app.RunAsync();
return 0;

/// <summary>Entry point, visible to functional tests.</summary>
public partial class Program;
