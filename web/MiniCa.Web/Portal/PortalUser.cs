using System.Security.Claims;
using MiniCa.Hosting.Users;

namespace MiniCa.Web.Portal;

/// <summary>What the edge knows about the signed-in user, from their claims.</summary>
internal static class PortalUser
{
    public static string Name(this ClaimsPrincipal user) =>
        user?.Identity?.Name is { Length: > 0 } name ? name : throw new InvalidOperationException("No signed-in user.");

    /// <summary>Officers, Auditors and Administrators see every request and certificate; Requesters their own.</summary>
    public static bool SeesAll(this ClaimsPrincipal user) =>
        user.IsInRole(PortalRoles.Officer) || user.IsInRole(PortalRoles.Auditor) || user.IsInRole(PortalRoles.Administrator);
}
