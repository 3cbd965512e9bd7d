using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data.Entities;
using MiniCa.Hsm;

namespace MiniCa.Hosting.Users;

/// <summary>A user as the portal and the CLI list them.</summary>
public sealed record UserSummary(string Id, string UserName, string? Email, IReadOnlyList<string> Roles, bool LockedOut, DateTimeOffset CreatedAt);

/// <summary>
/// Creates users, sets their roles and provisions the bootstrap administrator (ARCHITECTURE.md §3). Every change is
/// an audit event. Used by the portal's Users page and by <c>minica user add</c>.
/// </summary>
public sealed class UserAdministration(
    UserManager<MiniCaUser> users,
    RoleManager<IdentityRole> roles,
    IAuditLog audit,
    CaOptions options,
    TimeProvider time,
    ILogger<UserAdministration> logger)
{
    /// <summary>The bootstrap administrator's user name.</summary>
    public const string BootstrapAdministrator = "admin";

    /// <summary>The variable that sets the bootstrap administrator's password.</summary>
    public const string BootstrapPasswordVariable = "MINICA_BOOTSTRAP_ADMIN_PASSWORD";

    /// <summary>Where a generated bootstrap password is written (mode 0600).</summary>
    public string BootstrapPasswordFile => Path.Combine(options.DataDirectory, "secrets", "admin-password");

    /// <summary>Creates the four roles when missing.</summary>
    public async Task EnsureRolesAsync()
    {
        foreach (var role in PortalRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new IdentityRole(role)), $"create role {role}");
            }
        }
    }

    /// <summary>
    /// On the first start (no user holds the Administrator role), creates <c>admin</c> as Administrator with the password from
    /// <c>MINICA_BOOTSTRAP_ADMIN_PASSWORD</c> or a generated one, printed once and written to the secrets folder.
    /// Returns the generated password, or <see langword="null"/> when nothing was generated.
    /// </summary>
    public async Task<string?> EnsureBootstrapAdministratorAsync(CancellationToken cancellationToken = default)
    {
        await EnsureRolesAsync();
        if ((await users.GetUsersInRoleAsync(PortalRoles.Administrator)).Count > 0)
        {
            return null;
        }

        if (await users.FindByNameAsync(BootstrapAdministrator) is not null)
        {
            logger.LogWarning("No user holds the Administrator role and '{User}' exists without it; use 'minica user add' to make an administrator", BootstrapAdministrator);
            return null;
        }

        var given = Environment.GetEnvironmentVariable(BootstrapPasswordVariable);
        var password = string.IsNullOrEmpty(given) ? GeneratePassword() : given;
        await CreateAsync(BootstrapAdministrator, null, [PortalRoles.Administrator], password, "system", cancellationToken);
        if (!string.IsNullOrEmpty(given))
        {
            logger.LogInformation("Bootstrap administrator '{User}' created with the password from {Variable}", BootstrapAdministrator, BootstrapPasswordVariable);
            return null;
        }

        EmbeddedSoftHsm.CreatePrivateDirectory(Path.GetDirectoryName(BootstrapPasswordFile)!);
        if (File.Exists(BootstrapPasswordFile))
        {
            File.Delete(BootstrapPasswordFile);
        }

        EmbeddedSoftHsm.WritePrivateFile(BootstrapPasswordFile, password + "\n");
        logger.LogWarning("Bootstrap administrator '{User}' created; its generated password is in {File}", BootstrapAdministrator, BootstrapPasswordFile);
        return password;
    }

    /// <summary>Creates a user with roles; the password must satisfy the policy.</summary>
    public async Task<UserSummary> CreateAsync(string userName, string? email, IReadOnlyCollection<string> roleNames, string password, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roleNames);
        var canonical = CanonicalRoles(roleNames);
        if (string.IsNullOrWhiteSpace(userName) || userName.Length > 64 || userName.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@')))
        {
            throw new CaException(CaErrorKind.Malformed, "A user name is 1 to 64 characters: letters, digits, '.', '-', '_' or '@'.");
        }

        if (await users.FindByNameAsync(userName) is not null)
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"A user named '{userName}' already exists.");
        }

        await EnsureRolesAsync();
        var user = new MiniCaUser(userName) { Email = string.IsNullOrWhiteSpace(email) ? null : email.Trim(), EmailConfirmed = true, LockoutEnabled = true, CreatedAt = time.GetUtcNow() };
        Check(await users.CreateAsync(user, password), $"create user '{userName}'");
        Check(await users.AddToRolesAsync(user, canonical), $"give '{userName}' its roles");
        await audit.RecordAsync(new AuditEntry(actor, "user.created", $"user:{userName}", "roles: " + string.Join(", ", canonical)), cancellationToken);
        return await SummaryAsync(user);
    }

    /// <summary>Replaces a user's roles. An administrator cannot take the role away from the last administrator.</summary>
    public async Task<UserSummary> SetRolesAsync(string userName, IReadOnlyCollection<string> roleNames, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roleNames);
        var canonical = CanonicalRoles(roleNames);
        var user = await users.FindByNameAsync(userName) ?? throw new CaException(CaErrorKind.NotFound, $"No user named '{userName}'.");
        var current = await users.GetRolesAsync(user);
        if (current.Contains(PortalRoles.Administrator) && !canonical.Contains(PortalRoles.Administrator)
            && (await users.GetUsersInRoleAsync(PortalRoles.Administrator)).Count <= 1)
        {
            throw new CaException(CaErrorKind.PolicyViolation, $"'{userName}' is the last administrator; make someone else an administrator first.");
        }

        Check(await users.RemoveFromRolesAsync(user, current.Except(canonical)), $"remove roles from '{userName}'");
        Check(await users.AddToRolesAsync(user, canonical.Except(current)), $"add roles to '{userName}'");
        await audit.RecordAsync(new AuditEntry(actor, "user.roles", $"user:{userName}", $"{string.Join(", ", current)} -> {string.Join(", ", canonical)}"), cancellationToken);
        return await SummaryAsync(user);
    }

    /// <summary>Locks a user out indefinitely, or lifts the lock.</summary>
    public async Task<UserSummary> SetLockedAsync(string userName, bool locked, string actor, CancellationToken cancellationToken = default)
    {
        var user = await users.FindByNameAsync(userName) ?? throw new CaException(CaErrorKind.NotFound, $"No user named '{userName}'.");
        if (locked && string.Equals(userName, actor, StringComparison.OrdinalIgnoreCase))
        {
            throw new CaException(CaErrorKind.PolicyViolation, "You cannot lock yourself out.");
        }

        Check(await users.SetLockoutEndDateAsync(user, locked ? DateTimeOffset.MaxValue : null), $"change the lock of '{userName}'");
        if (!locked)
        {
            Check(await users.ResetAccessFailedCountAsync(user), $"reset failed logins of '{userName}'");
        }

        // A new security stamp ends the user's cookies at the next validation.
        Check(await users.UpdateSecurityStampAsync(user), $"end the sessions of '{userName}'");
        await audit.RecordAsync(new AuditEntry(actor, locked ? "user.locked" : "user.unlocked", $"user:{userName}", string.Empty), cancellationToken);
        return await SummaryAsync(user);
    }

    /// <summary>Every user, by name.</summary>
    public async Task<IReadOnlyList<UserSummary>> ListAsync()
    {
        var list = new List<UserSummary>();
        foreach (var user in users.Users.OrderBy(u => u.UserName).ToList())
        {
            list.Add(await SummaryAsync(user));
        }

        return list;
    }

    /// <summary>A random password of 24 characters that satisfies the policy.</summary>
    public static string GeneratePassword() =>
        RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 24);

    private async Task<UserSummary> SummaryAsync(MiniCaUser user)
    {
        var held = await users.GetRolesAsync(user);
        var locked = user.LockoutEnd is { } end && end > time.GetUtcNow();
        return new UserSummary(user.Id, user.UserName ?? string.Empty, user.Email, PortalRoles.All.Where(held.Contains).ToList(), locked, user.CreatedAt);
    }

    private static List<string> CanonicalRoles(IReadOnlyCollection<string> roleNames)
    {
        var canonical = new List<string>();
        foreach (var name in roleNames)
        {
            var role = PortalRoles.Normalize(name)
                ?? throw new CaException(CaErrorKind.Malformed, $"'{name}' is not a role; the roles are {string.Join(", ", PortalRoles.All)}.");
            if (!canonical.Contains(role))
            {
                canonical.Add(role);
            }
        }

        return canonical.Count > 0 ? canonical : throw new CaException(CaErrorKind.Malformed, "A user needs at least one role.");
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new CaException(CaErrorKind.PolicyViolation, $"Could not {what}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }
}
