using Microsoft.AspNetCore.Authorization;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Security;

/// <summary>
/// Every permission is a named policy; pages and endpoints name one, and anything that names none needs a signed-in
/// user (the fallback policy). Portal policies accept the cookie, API policies only a personal API token, so a
/// browser session can never be replayed against the API (no CSRF surface there).
/// </summary>
internal static class PortalPolicies
{
    /// <summary>Any user with a role: dashboard, authority, profiles, own API tokens, own certificates.</summary>
    public const string Member = "member";

    /// <summary>Submit requests and see one's own (Requester).</summary>
    public const string Request = "request";

    /// <summary>Decide on requests (Officer).</summary>
    public const string Approve = "approve";

    /// <summary>See every certificate (Officer, Auditor, Administrator).</summary>
    public const string SeeAll = "see-all";

    /// <summary>Read the audit log (Auditor, Administrator).</summary>
    public const string Audit = "audit";

    /// <summary>Manage users (Administrator).</summary>
    public const string Administer = "administer";

    /// <summary>The API's version of each policy (same roles, API token only).</summary>
    public static string Api(string policy) => "api-" + policy;

    /// <summary>The roles behind each policy.</summary>
    public static IReadOnlyDictionary<string, string[]> Roles { get; } = new Dictionary<string, string[]>
    {
        [Member] = [.. PortalRoles.All],
        [Request] = [PortalRoles.Requester],
        [Approve] = [PortalRoles.Officer],
        [SeeAll] = [PortalRoles.Officer, PortalRoles.Auditor, PortalRoles.Administrator],
        [Audit] = [PortalRoles.Auditor, PortalRoles.Administrator],
        [Administer] = [PortalRoles.Administrator],
    };

    public static void Configure(AuthorizationOptions options)
    {
        // Deny by default: an endpoint or page that forgets its policy still needs a signed-in user.
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        foreach (var (name, roles) in Roles)
        {
            options.AddPolicy(name, policy => policy.RequireAuthenticatedUser().RequireRole(roles));
            options.AddPolicy(Api(name), policy => policy.AddAuthenticationSchemes(ApiTokenAuthentication.SchemeName).RequireAuthenticatedUser().RequireRole(roles));
        }
    }
}
