using System.Text.Json;
using System.Text.Json.Serialization;
using MiniCa.Web.Api;
using MiniCa.Web.Portal;

namespace MiniCa.Web.Security;

/// <summary>
/// A NUL character (U+0000) in a request's query string or in a JSON string of an API body is refused at the door
/// with a 400 problem that says so (for a body, through the problem of a body the API cannot read; a browser's page
/// load gets a page saying the same). No text MiniCa
/// stores or searches may hold one: PostgreSQL's text type cannot (found by <c>ApiFuzzTests</c>: such a search
/// answered 503). The database's guard (<c>NulTextGuard</c>) refuses it behind every door; this refusal comes first,
/// before a handler does any work (a reject of a request that does not exist is still this 400, not a 404), and
/// names where the NUL was. Kestrel refuses a NUL in the path itself.
/// </summary>
internal static class NulRefusal
{
    /// <summary>Refuses a query string that holds an encoded NUL (<c>%00</c>, the only way a URL can carry one).</summary>
    public static IApplicationBuilder UseNulRefusal(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) == true)
        {
            const string Reason = "The query string holds a NUL character (%00), which no text MiniCa keeps can hold.";
            await (BrowserErrorPage.WantsPage(context.Request)
                ? BrowserErrorPage.WriteAsync(context, StatusCodes.Status400BadRequest, Reason, context.RequestAborted)
                : ApiProblems.Problem(400, "malformed", Reason).ExecuteAsync(context));
            return;
        }

        await next(context);
    });

    /// <summary>Reads and writes JSON strings as usual, and refuses one that holds a NUL character (<c>\u0000</c>).</summary>
    internal sealed class StringConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var value = reader.GetString();
            return value is not null && value.Contains('\0', StringComparison.Ordinal)
                ? throw new JsonException("A string holds a NUL character (\\u0000), which no text MiniCa keeps can hold.")
                : value;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
