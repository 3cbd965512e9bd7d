using System.Data.Common;

namespace MiniCa.Core.Errors;

/// <summary>
/// Whether an exception is a failure of the issuance database itself (a PostgreSQL server stopped, failing over or
/// out of connections; a statement it refused): ADO.NET's <see cref="DbException"/>, a timeout, or EF Core's
/// <see cref="InvalidOperationException"/> or a store's <see cref="CaErrorKind.StorageFailed"/> around either. Background work
/// tries again later, and a request is told to (HTTP 503, OCSP tryLater), instead of the host stopping or a 500.
/// </summary>
public static class DatabaseFailure
{
    /// <summary>True when <paramref name="exception"/> is, or wraps, a failure to reach the database.</summary>
    public static bool IsUnavailable(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 8; depth++, exception = exception.InnerException)
        {
            if (exception is DbException or TimeoutException)
            {
                return true;
            }

            // Only through EF Core's wrapper and a store's StorageFailed: a store's AlreadyExists around a unique
            // violation, say, is an answer of the database, not a failure of it.
            if (exception is not (InvalidOperationException or CaException { Kind: CaErrorKind.StorageFailed }))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// The database's own words for a failure (e.g. <c>SQLite Error 13: 'database or disk is full'</c>), from the
    /// first <see cref="DbException"/> in <paramref name="exception"/>'s chain; <see langword="null"/> when there is none.
    /// </summary>
    public static string? Reason(Exception? exception)
    {
        for (var depth = 0; exception is not null && depth < 8; depth++, exception = exception.InnerException)
        {
            if (exception is DbException)
            {
                return exception.Message.TrimEnd('.');
            }
        }

        return null;
    }
}
