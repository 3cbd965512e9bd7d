using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using MiniCa.Data.Entities;
using MiniCa.Data.Queries;
using MiniCa.Web.Portal;
using MiniCa.Web.Security;
using MudBlazor.Services;
using Scalar.AspNetCore;

namespace MiniCa.Web;

/// <summary>The portal's and the API's services and middleware, kept out of <c>Program.cs</c>.</summary>
internal static class PortalComposition
{
    public static IServiceCollection AddPortal(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingAuthenticationState>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiTokenAuthentication>(ApiTokenAuthentication.SchemeName, null)
            .AddIdentityCookies();
        new IdentityBuilder(typeof(MiniCaUser), typeof(IdentityRole), services).AddSignInManager();
        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "minica";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.LoginPath = "/account/login";
            cookie.AccessDeniedPath = "/account/denied";
            cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
            cookie.SlidingExpiration = true;
        });
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
        services.AddAuthorization(PortalPolicies.Configure);
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "minica-antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
        });

        services.AddSingleton<PortalQueries>();
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<CertificateService>();
        services.AddSingleton<BlockedKeyService>();
        services.AddSingleton<RequestService>();
        services.AddSingleton<AuthorityOverview>();
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<AcmeAdministration>();
        services.AddOpenApi("v1", options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "MiniCa REST API";
                document.Info.Description = "Certificate requests, approvals, certificates and revocation. Authenticate with a personal API token: `Authorization: Bearer mca_…` (create one in the portal under API tokens).";
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static WebApplication MapPortal(this WebApplication app)
    {
        app.MapStaticAssets().AllowAnonymous();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/scalar", options => options.WithTitle("MiniCa REST API").WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();
        app.MapRazorComponents<Components.App>().AddInteractiveServerRenderMode();
        return app;
    }
}
