using Microsoft.AspNetCore.Components;
using MiniCa.Core.Errors;
using MiniCa.Web.Api;
using MudBlazor;

namespace MiniCa.Web.Portal;

/// <summary>
/// What a portal page says when its work fails: a person's own mistake (a search holding a NUL character, a name
/// that is no profile) in the words of the refusal, a database that does not answer as such, and anything else
/// without its inside. Used by the layout's error boundary and by the grids' loads.
/// </summary>
internal static class PageErrors
{
    /// <summary>True for a refusal whose message is written for the person who caused it (the API's caller refusals).</summary>
    public static bool IsCallers(Exception exception) =>
        exception is CaException error && ApiProblems.CallersRefusal(error.Kind) is not null;

    /// <summary>The sentence shown for <paramref name="exception"/>.</summary>
    public static string Explain(Exception exception) =>
        IsCallers(exception) ? exception.Message
        : DatabaseFailure.IsUnavailable(exception) ? "The CA's database does not answer now; try again in a moment."
        : "This page failed; the operators have the details in the log.";

    /// <summary>
    /// For a record a page cannot show (there is none, or not one the person may see), on a full page load: the
    /// response becomes a 404 with the browser's error page, as for an address with no page (Blazor drops a page
    /// rendered with a 404 for the status page). Inside a running page there is no response to set (no
    /// <paramref name="http"/>), and the page shows its own message.
    /// </summary>
    public static void NotFoundOnFullLoad(HttpContext? http, NavigationManager navigation)
    {
        ArgumentNullException.ThrowIfNull(navigation);
        if (http is { Response.HasStarted: false })
        {
            navigation.NotFound();
        }
    }

    /// <summary>
    /// Loads one page of a grid. A refusal of the search or a database that does not answer is handed to
    /// <paramref name="report"/> (<see langword="null"/> once a load succeeds), for the grid's empty content to show
    /// (<c>GridEmpty</c>), and the grid shows no rows: the grids' text filters run their load from a debounce timer,
    /// where no error boundary sees a failure, and the grid went on showing the rows of the search before, as if
    /// they matched.
    /// </summary>
    public static async Task<GridData<T>> LoadAsync<T>(Func<Task<GridData<T>>> load, Action<string?> report)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(report);
        try
        {
            var data = await load();
            report(null);
            return data;
        }
        catch (Exception ex) when (IsCallers(ex) || DatabaseFailure.IsUnavailable(ex))
        {
            report(Explain(ex));
            return new GridData<T> { Items = [], TotalItems = 0 };
        }
    }
}
