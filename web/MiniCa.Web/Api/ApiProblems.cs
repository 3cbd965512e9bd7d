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
        var (status, type, detail) = error.Kind switch
        {
            CaErrorKind.Malformed => (400, "malformed", error.Message),
            CaErrorKind.PolicyViolation => (422, "policy-violation", error.Message),
            CaErrorKind.NotFound => (404, "not-found", error.Message),
            CaErrorKind.AlreadyExists => (409, "conflict", error.Message),
            CaErrorKind.InvalidState => (409, "invalid-state", error.Message),
            CaErrorKind.Forbidden => (403, "forbidden", error.Message),
            _ => (503, "unavailable", "The CA cannot complete this request now; the operators have the details in the log."),
        };
        return Problem(status, type, detail);
    }

    public static IResult Problem(int status, string type, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(statusCode: status, type: TypeBase + type, detail: detail, extensions: extensions);

    public static IResult NotFound(string what) => Problem(404, "not-found", what);
}
