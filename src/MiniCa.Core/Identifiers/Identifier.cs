namespace MiniCa.Core.Identifiers;

/// <summary>Kinds of identifiers a certificate can name in its subjectAltName.</summary>
public enum IdentifierType
{
    /// <summary>dNSName.</summary>
    Dns,

    /// <summary>iPAddress.</summary>
    Ip,

    /// <summary>rfc822Name.</summary>
    Email,

    /// <summary>uniformResourceIdentifier.</summary>
    Uri,
}

/// <summary>One identifier, normalised (DNS names and email domains lowercase, IPs canonical).</summary>
/// <param name="Type">What kind of name it is.</param>
/// <param name="Value">The name.</param>
public sealed record Identifier(IdentifierType Type, string Value)
{
    /// <inheritdoc />
    public override string ToString() => $"{Type.ToString().ToLowerInvariant()}:{Value}";
}
