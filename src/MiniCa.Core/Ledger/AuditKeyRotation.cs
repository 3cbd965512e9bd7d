using System.Globalization;

namespace MiniCa.Core.Ledger;

/// <summary>
/// The audit key replaced by a new one in the HSM, recorded in the audit log as an event of action
/// <see cref="Action"/> whose details are <see cref="ToString"/>. From then on anchors are signed with the new key; an
/// anchor signed with the old key that covers this event or later ones fails (the old key's anchors over earlier
/// events still verify). The event is in the chain like any other, so the new key's anchors cover it.
/// </summary>
/// <param name="From">The replaced key's logical name (<c>audit</c>, <c>audit-2</c>, …).</param>
/// <param name="FromSha256">The SHA-256 of its SubjectPublicKeyInfo, lowercase hex.</param>
/// <param name="To">The new key's logical name.</param>
/// <param name="ToSha256">The SHA-256 of the new key's SubjectPublicKeyInfo, lowercase hex.</param>
/// <param name="By">Who rotated it (<c>cli:USER</c>).</param>
public sealed record AuditKeyRotation(string From, string FromSha256, string To, string ToSha256, string By)
{
    /// <summary>The audit action of the events that record a rotation (actor <see cref="SignedAuditAnchor.Actor"/>, as the signed anchors).</summary>
    public const string Action = "audit.key.rotated";

    /// <summary>The first audit key's name; each rotation adds the next generation's: <c>audit-2</c>, <c>audit-3</c>, ….</summary>
    public const string FirstKeyName = "audit";

    /// <summary>The audit key of generation <paramref name="generation"/> (1: <see cref="FirstKeyName"/>).</summary>
    public static string KeyName(int generation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(generation, 1);
        return generation == 1 ? FirstKeyName : string.Create(CultureInfo.InvariantCulture, $"{FirstKeyName}-{generation}");
    }

    /// <summary>Whether <paramref name="name"/> is an audit key's name: <c>audit</c> or <c>audit-N</c> with N of 2 or more.</summary>
    public static bool IsKeyName(string? name) =>
        name == FirstKeyName
        || (name is not null && name.StartsWith(FirstKeyName + "-", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(FirstKeyName.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            && generation >= 2 && KeyName(generation) == name);

    /// <summary>The event's details: <c>from=NAME from-sha256=HEX to=NAME to-sha256=HEX by=WHO</c>.</summary>
    public override string ToString() => $"from={From} from-sha256={FromSha256} to={To} to-sha256={ToSha256} by={By}";

    /// <summary>Reads an event's details written by <see cref="ToString"/>; <see langword="null"/> with <paramref name="problem"/> when they are not that.</summary>
    public static AuditKeyRotation? Parse(string? details, out string? problem)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in (details ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !fields.TryAdd(part[..equals], part[(equals + 1)..]))
            {
                problem = $"'{(part.Length <= 40 ? part : part[..40] + "…")}' is not a NAME=VALUE field of its own";
                return null;
            }
        }

        string? Field(string name) => fields.TryGetValue(name, out var value) ? value : null;
        static bool IsSha256(string? hex) => hex is { Length: 64 } && hex.All(char.IsAsciiHexDigitLower);
        problem = !IsKeyName(Field("from")) ? "no from= audit key name"
            : !IsSha256(Field("from-sha256")) ? "no from-sha256= of 64 lowercase hex digits"
            : !IsKeyName(Field("to")) ? "no to= audit key name"
            : !IsSha256(Field("to-sha256")) ? "no to-sha256= of 64 lowercase hex digits"
            : string.IsNullOrEmpty(Field("by")) ? "no by=WHO"
            : fields.Count != 5 ? $"fields other than from, from-sha256, to, to-sha256 and by: {string.Join(", ", fields.Keys.Except(["from", "from-sha256", "to", "to-sha256", "by"]))}"
            : null;
        return problem is null ? new AuditKeyRotation(Field("from")!, Field("from-sha256")!, Field("to")!, Field("to-sha256")!, Field("by")!) : null;
    }
}
