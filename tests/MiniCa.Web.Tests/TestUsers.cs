using System.Security.Claims;

namespace MiniCa.Web.Tests;

/// <summary>Signed-in users as the portal's services see them, for tests that call those services directly.</summary>
internal static class TestUsers
{
    public static ClaimsPrincipal Principal(string name, params string[] roles) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), .. roles.Select(r => new Claim(ClaimTypes.Role, r))], "test", ClaimTypes.Name, ClaimTypes.Role));
}
