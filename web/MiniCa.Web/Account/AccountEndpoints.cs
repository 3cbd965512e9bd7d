using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using MiniCa.Core.Ledger;
using MiniCa.Core.Requests;
using MiniCa.Data.Entities;

namespace MiniCa.Web.Account;

/// <summary>
/// Sign-in and sign-out as plain form posts (antiforgery-checked): the cookie must be set by an HTTP response,
/// which an interactive Blazor circuit cannot do.
/// </summary>
internal static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/account").ExcludeFromDescription();
        group.MapPost("/login", LoginAsync).AllowAnonymous();
        group.MapPost("/logout", LogoutAsync);
        return app;
    }

    private static async Task<IResult> LoginAsync(
        [FromForm] string? userName,
        [FromForm] string? password,
        [FromForm] string? returnUrl,
        SignInManager<MiniCaUser> signIn,
        IAuditLog audit,
        HttpContext context)
    {
        var target = LocalUrl(returnUrl);
        if (string.IsNullOrWhiteSpace(userName) || string.IsNullOrEmpty(password) || userName.Length > 256 || password.Length > 1024)
        {
            return Back("missing", target);
        }

        var name = userName.Trim();
        if (name.Any(char.IsControl))
        {
            // No user name holds a control character (they are letters, digits, '.', '-', '_' and '@'): a failed
            // sign-in like any other, audited with the name's control characters escaped so that it stays one line.
            // (ASP.NET Core refuses a form holding a NUL before this handler runs.)
            var escaped = ControlCharacters.Escape(name);
            await audit.RecordAsync(new AuditEntry(escaped, "user.login-failed", $"user:{escaped}", $"from {context.Connection.RemoteIpAddress}"), context.RequestAborted);
            return Back("failed", target);
        }

        var result = await signIn.PasswordSignInAsync(name, password, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            await audit.RecordAsync(new AuditEntry(name, "user.login", $"user:{name}", $"from {context.Connection.RemoteIpAddress}"), context.RequestAborted);
            return Results.LocalRedirect(target);
        }

        // Never say whether the name exists; say only that the account is locked when it is.
        await audit.RecordAsync(new AuditEntry(name, result.IsLockedOut ? "user.login-locked" : "user.login-failed", $"user:{name}", $"from {context.Connection.RemoteIpAddress}"), context.RequestAborted);
        return Back(result.IsLockedOut ? "locked" : "failed", target);
    }

    private static async Task<IResult> LogoutAsync(SignInManager<MiniCaUser> signIn)
    {
        await signIn.SignOutAsync();
        return Results.LocalRedirect("/account/login");
    }

    private static IResult Back(string error, string target) =>
        Results.LocalRedirect($"/account/login?error={error}&returnUrl={Uri.EscapeDataString(target)}");

    /// <summary>Only a local path is a valid return target (no open redirect).</summary>
    internal static string LocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";
}
