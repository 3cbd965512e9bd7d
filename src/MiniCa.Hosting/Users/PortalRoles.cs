namespace MiniCa.Hosting.Users;

/// <summary>The portal's roles. A user may hold several; separation of duties is enforced per request, not per role.</summary>
public static class PortalRoles
{
    /// <summary>Submits CSRs and fetches and revokes their own certificates.</summary>
    public const string Requester = "Requester";

    /// <summary>Approves or rejects requests (never their own) and revokes any certificate.</summary>
    public const string Officer = "Officer";

    /// <summary>Runs the CA: users, roles, settings.</summary>
    public const string Administrator = "Administrator";

    /// <summary>Reads the audit log and the record, changes nothing.</summary>
    public const string Auditor = "Auditor";

    /// <summary>Every role, in the order the portal lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Requester, Officer, Administrator, Auditor];

    /// <summary>The canonical spelling of <paramref name="name"/>, or <see langword="null"/> when it is no role.</summary>
    public static string? Normalize(string? name) =>
        All.FirstOrDefault(r => string.Equals(r, name?.Trim(), StringComparison.OrdinalIgnoreCase));
}
