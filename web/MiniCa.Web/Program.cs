using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using MiniCa.Acme;
using MiniCa.Authority.Ocsp;
using MiniCa.Core.Errors;
using MiniCa.Hosting;
using MiniCa.Web;
using MiniCa.Hosting.Users;
using MiniCa.Web.Account;
using MiniCa.Web.Api;
using MiniCa.Web.Health;
using MiniCa.Web.Portal;
using MiniCa.Web.Security;

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

// Endpoints in a Kestrel section replace Urls; otherwise Urls is checked before anything starts (a busy port or an
// https URL without a certificate is one line, not Kestrel's stack trace after the key ceremony).
if (!builder.Configuration.GetSection("Kestrel:Endpoints").Exists()
    && ListenAddresses.Check(loaded.Options.Urls, builder.Configuration.GetSection("Kestrel:Certificates:Default").Exists()) is { Count: > 0 } listenProblems)
{
    await Console.Error.WriteLineAsync($"minica-web: error: Configuration error in {loaded.Source}: {string.Join("; ", loaded.Attribute(listenProblems))}");
    return 1;
}

builder.WebHost.UseUrls(loaded.Options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
builder.Services.AddMiniCa(loaded);
builder.Services.AddSingleton<CrlPublisher>();
builder.Services.AddSingleton<CrlCache>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<CrlPublisher>());
builder.Services.AddHostedService<OcspPreSigner>();
builder.Services.AddHostedService<KeyFingerprintBackfill>();
builder.Services.AddHostedService<InterruptedIssuances>();
builder.Services.AddHostedService<BlockedKeyListRefresh>();
builder.Services.AddSingleton<AuditAnchorLog>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<AuditAnchorLog>());
builder.Services.AddSingleton<ScheduledBackups>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ScheduledBackups>());
builder.Services.AddExceptionHandler<BrowserErrorPage>();
builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
{
    // A caller's mistake found only by the database's guard, or a body the JSON reader refused (a NUL character,
    // a value of the wrong type), says what it was, as the handlers' own refusals do. The reader's words name the
    // place in the body (e.g. "Path: $.csr | LineNumber: 0 | BytePositionInLine: 12").
    context.ProblemDetails.Detail = context.Exception switch
    {
        CaException { Kind: CaErrorKind.Malformed } malformed => malformed.Message,
        BadHttpRequestException { InnerException: System.Text.Json.JsonException json } => "The body is not JSON this request can take: " + json.Message,
        _ => context.ProblemDetails.Detail,
    };
    // A problem written by the exception handler goes out on a cleared response, without the headers set on the way in.
    SecurityHeaders.Apply(context.HttpContext);
});
// A body the endpoint cannot read reaches the exception handler (above, and below: its own 4xx), so that the problem
// can say why; without this the API answered a bare "Bad Request".
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new NulRefusal.StringConverter()));
builder.Services.AddPortal();
builder.Services.AddMiniCaAcme();
builder.Services.AddMiniCaMetrics();
// Static web assets (MudBlazor's CSS and JS) are served from the build output in every environment, so
// `dotnet run` in Production works as well as a published app.
builder.WebHost.UseStaticWebAssets();
builder.Services.AddSingleton<HealthTransitions>();
var health = builder.Services.AddHealthChecks()
    .AddCheck<HsmHealthCheck>("hsm")
    .AddCheck<DatabaseHealthCheck>("database");
if (loaded.Options.Backup.Directory is not null)
{
    health.AddCheck<BackupHealthCheck>("backup");
}

var app = builder.Build();
try
{
    await app.Services.GetRequiredService<CaBootstrapper>().StartAsync(app.Lifetime.ApplicationStopping);
    // The delegated OCSP signer is issued (or renewed) before the first request, so failures show at start.
    await app.Services.GetRequiredService<OcspResponderCertificate>().GetAsync(app.Lifetime.ApplicationStopping);
    await app.Services.GetRequiredService<CrlPublisher>().PublishDueAsync(app.Lifetime.ApplicationStopping);
    await using var scope = app.Services.CreateAsyncScope();
    if (await scope.ServiceProvider.GetRequiredService<UserAdministration>().EnsureBootstrapAdministratorAsync(app.Lifetime.ApplicationStopping) is { } password)
    {
        // ARCHITECTURE.md §3: printed once (and kept in the secrets folder), never written to the log.
        Console.WriteLine($"MiniCa: bootstrap administrator 'admin' created; password (shown once): {password}");
    }
}
catch (CaException ex)
{
    // A start-up failure is one line a person can act on, never a stack trace.
    app.Logger.LogCritical("MiniCa cannot start: {Reason}", ex.Message);
    await Console.Error.WriteLineAsync("minica-web: error: " + ex.Message.ReplaceLineEndings(" "));
    return 1;
}

// A malformed body or query (bad JSON, wrong content type, missing antiforgery token) is the client's error:
// its own 4xx status as a problem document, in every environment, never a 500.
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    // A caller's mistake (the database's guard refusing a NUL character is one), an outage (try again later: 503),
    // anything else a fault (500). A browser gets the same status with a page saying why (BrowserErrorPage).
    StatusCodeSelector = BrowserErrorPage.StatusFor,
    // An outage is logged once where it is found (OCSP, the pre-signer, /healthz), not with a stack trace per request;
    // a caller's mistake is not the host's.
    SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException || PageErrors.IsCallers(context.Exception) || DatabaseFailure.IsUnavailable(context.Exception),
});
// A status without a body (no endpoint at this address, a method it does not take): a page for a browser, the
// problem document for every other client.
app.UseStatusCodePages(async pages =>
{
    var context = pages.HttpContext;
    if (BrowserErrorPage.WantsPage(context.Request))
    {
        await BrowserErrorPage.WriteStatusAsync(context);
    }
    else if (!await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext { HttpContext = context }))
    {
        await context.Response.WriteAsync($"Status Code: {context.Response.StatusCode}");
    }
});
app.UseNulRefusal();
app.UseOcspLane();
app.UseSecurityHeaders();
if (loaded.Options.HttpsRedirection)
{
    app.UseHsts();
    app.UseHttpsRedirection();
}

app.UseApiBodyLimit();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync }).AllowAnonymous();
app.MapMiniCaMetrics();
app.MapCaEndpoints();
app.MapAccountEndpoints();
app.MapPortalDownloads();
app.MapApiEndpoints();
if (loaded.Options.Acme.Enabled)
{
    app.MapAcme();
}

app.MapPortal();

try
{
    await app.RunAsync();
}
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // Another process took a port between the check above and Kestrel's bind.
    await Console.Error.WriteLineAsync("minica-web: error: " + ex.Message);
    return 1;
}

return 0;

/// <summary>Entry point, visible to functional tests.</summary>
public partial class Program;
