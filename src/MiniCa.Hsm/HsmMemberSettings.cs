namespace MiniCa.Hsm;

/// <summary>How to reach one PKCS#11 token: the resolved form of a configured HSM member.</summary>
public sealed record HsmMemberSettings
{
    /// <summary>The member's name (for messages, status and, later, the cluster).</summary>
    public required string Name { get; init; }

    /// <summary>Absolute path of the PKCS#11 module.</summary>
    public required string ModulePath { get; init; }

    /// <summary>The token's label; this or <see cref="TokenSerial"/>.</summary>
    public string? TokenLabel { get; init; }

    /// <summary>The token's serial number; this or <see cref="TokenLabel"/>.</summary>
    public string? TokenSerial { get; init; }

    /// <summary>Where the user PIN comes from: <c>env:NAME</c> or <c>file:PATH</c>.</summary>
    public required string PinSource { get; init; }

    /// <summary>Where the security officer's PIN comes from, when this member must create a trusted wrapping key.</summary>
    public string? SoPinSource { get; init; }

    /// <summary>Native environment for a private copy of the module (empty: the module is shared in the process).</summary>
    public IReadOnlyDictionary<string, string> ModuleEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>The folder relative <c>file:</c> PIN sources resolve against.</summary>
    public string BaseDirectory { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>Most sessions open at once for concurrent signing.</summary>
    public int MaxSessions { get; init; } = 16;

    /// <summary>How long an operation waits for a free session before failing.</summary>
    public TimeSpan SessionWaitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The token as a person would name it.</summary>
    public string TokenDescription => TokenLabel is not null ? $"label '{TokenLabel}'" : $"serial '{TokenSerial}'";
}
