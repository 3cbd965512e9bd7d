namespace MiniCa.Data.Entities;

/// <summary>
/// The CRL state of one authority: the last CRL number handed out (shared by every node; it only grows) and the
/// latest CRL published.
/// </summary>
public sealed class CrlStateEntity
{
    /// <summary>The authority's name.</summary>
    public string Authority { get; set; } = string.Empty;

    /// <summary>The last cRLNumber reserved; a concurrency token, so two nodes never reserve the same one.</summary>
    public long LastNumber { get; set; }

    /// <summary>The number of the CRL in <see cref="CrlBlobEntity.Der"/>.</summary>
    public long PublishedNumber { get; set; }

    /// <summary>thisUpdate of the published CRL.</summary>
    public DateTimeOffset? ThisUpdate { get; set; }

    /// <summary>nextUpdate of the published CRL.</summary>
    public DateTimeOffset? NextUpdate { get; set; }

    /// <summary>How many entries it lists.</summary>
    public int Entries { get; set; }

}

/// <summary>
/// The bytes of an authority's latest CRL, in a table of their own: updating a CRL number or a date then never
/// rewrites a 50 MB row, and the blob is the record's last column, so SQLite can stream it in place.
/// </summary>
public sealed class CrlBlobEntity
{
    /// <summary>The authority (or <c>{authority}-delta</c>); the key.</summary>
    public string Authority { get; set; } = string.Empty;

    /// <summary>The DER CRL.</summary>
    public byte[] Der { get; set; } = [];
}
