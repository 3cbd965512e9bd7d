namespace MiniCa.Acme;

/// <summary>
/// An ACME error, raised inside the ACME front end and turned into an RFC 8555 §6.7 problem document at the edge.
/// </summary>
internal sealed class AcmeException : Exception
{
    public AcmeException(string type, string detail, int status = 400, IReadOnlyList<AcmeSubproblem>? subproblems = null)
        : base(detail)
    {
        Type = type;
        Status = status;
        Subproblems = subproblems ?? [];
    }

    public AcmeException(string type, string detail, int status, IReadOnlyList<AcmeSubproblem>? subproblems, Exception innerException)
        : base(detail, innerException)
    {
        Type = type;
        Status = status;
        Subproblems = subproblems ?? [];
    }

    public AcmeException()
        : this("serverInternal", "An error occurred.", 500)
    {
    }

    public AcmeException(string message)
        : this("malformed", message)
    {
    }

    public AcmeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Type = "malformed";
        Status = 400;
        Subproblems = [];
    }

    /// <summary>The error type after <c>urn:ietf:params:acme:error:</c> (e.g. <c>badNonce</c>).</summary>
    public string Type { get; }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>Per-identifier problems (RFC 8555 §6.7.1).</summary>
    public IReadOnlyList<AcmeSubproblem> Subproblems { get; }
}

/// <summary>A problem about one identifier.</summary>
/// <param name="Type">The error type suffix.</param>
/// <param name="Detail">For a person.</param>
/// <param name="IdentifierType"><c>dns</c> or <c>ip</c>.</param>
/// <param name="IdentifierValue">The name.</param>
internal sealed record AcmeSubproblem(string Type, string Detail, string IdentifierType, string IdentifierValue);
