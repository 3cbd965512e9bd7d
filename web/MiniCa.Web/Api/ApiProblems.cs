using MiniCa.Core.Errors;

namespace MiniCa.Web.Api;

/// <summary>
/// The edge's translation of the internal error vocabulary into RFC 9457 problem documents. Messages of caller
/// mistakes are passed on (they are written for people); internal failures get a generic text, never the detail.
/// </summary>
internal static class ApiProblems
{
    private const string TypeBase = "https://minica.dev/problems/";

    public static IResult From(CaException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return CallersRefusal(error.Kind) is { } refusal
            ? Problem(refusal.Status, refusal.Type, error.Message)
            : Problem(503, "unavailable", "The CA cannot complete this request now; the operators have the details in the log.");
    }

    /// <summary>
    /// The status and problem type of a refusal written for the caller, whose message is theirs to read (the
    /// portal's pages and error page use the same kinds and statuses); <see langword="null"/> for a failure of the CA.
    /// </summary>
    public static (int Status, string Type)? CallersRefusal(CaErrorKind kind) => kind switch
    {
        CaErrorKind.Malformed => (400, "malformed"),
        CaErrorKind.PolicyViolation => (422, "policy-violation"),
        CaErrorKind.NotFound => (404, "not-found"),
        CaErrorKind.AlreadyExists => (409, "conflict"),
        CaErrorKind.InvalidState => (409, "invalid-state"),
        CaErrorKind.Forbidden => (403, "forbidden"),
        _ => null,
    };

    public static IResult Problem(int status, string type, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(statusCode: status, type: TypeBase + type, detail: detail, extensions: extensions);

    public static IResult NotFound(string what) => Problem(404, "not-found", what);
}
