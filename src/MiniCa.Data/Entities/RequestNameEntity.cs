namespace MiniCa.Data.Entities;

/// <summary>
/// One identifier of a request (and so of its certificate), kept apart so that the portal's name search is an
/// index range, not a scan: <see cref="Name"/> answers "starts with", <see cref="ReversedName"/> answers "in this
/// domain" (labels reversed, the way Boulder's issuedNames table does it).
/// </summary>
public sealed class RequestNameEntity
{
    /// <summary>Surrogate key.</summary>
    public long Id { get; private set; }

    /// <summary>The request.</summary>
    public long RequestId { get; private set; }

    /// <summary>The identifier's value in lower case, without its type (<c>www.example.com</c>, <c>10.0.0.1</c>).</summary>
    public string Name { get; private set; } = string.Empty;

    /// <summary>The value with its dot-separated labels reversed (<c>com.example.www</c>).</summary>
    public string ReversedName { get; private set; } = string.Empty;

    /// <summary>The index rows for identifiers such as <c>dns:www.example.com</c> (duplicates dropped).</summary>
    public static List<RequestNameEntity> For(IEnumerable<string> identifiers)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        return identifiers.Select(ValueOf).Where(v => v.Length > 0).Distinct(StringComparer.Ordinal)
            .Select(v => new RequestNameEntity { Name = v, ReversedName = Reverse(v) }).ToList();
    }

    /// <summary>Index rows for an existing request (used to fill the index for requests recorded before it existed).</summary>
    public static IEnumerable<RequestNameEntity> For(long requestId, IEnumerable<string> identifiers) =>
        For(identifiers).Select(n => new RequestNameEntity { RequestId = requestId, Name = n.Name, ReversedName = n.ReversedName });

    /// <summary>The searchable value of an identifier: lower case, type prefix removed, at most 255 characters.</summary>
    public static string ValueOf(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var colon = identifier.IndexOf(':', StringComparison.Ordinal);
        var value = (colon > 0 && colon < 6 ? identifier[(colon + 1)..] : identifier).Trim().ToLowerInvariant();
        return value.Length <= 255 ? value : value[..255];
    }

    /// <summary><c>www.example.com</c> → <c>com.example.www</c>.</summary>
    public static string Reverse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var labels = value.Split('.');
        Array.Reverse(labels);
        return string.Join('.', labels);
    }
}
