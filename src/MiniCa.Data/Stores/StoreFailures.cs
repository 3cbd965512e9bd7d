using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Errors;

namespace MiniCa.Data.Stores;

/// <summary>
/// A failure of the database itself during a write (a full disk, a lost connection, a refused commit) reaches the
/// caller as <see cref="CaErrorKind.StorageFailed"/>, naming what was not recorded and the database's own reason:
/// the CLI prints it, the services log it, and <see cref="DatabaseFailure"/> still finds the database's exception
/// inside. EF Core's <see cref="DbUpdateException"/> says only to look at its inner exception.
/// </summary>
internal static class StoreFailures
{
    /// <summary>The database's own words for a failure (e.g. <c>SQLite Error 13: 'database or disk is full'</c>), for the operator.</summary>
    public static string Reason(Exception ex) => DatabaseFailure.Reason(ex) ?? ex.Message.TrimEnd('.');

    /// <summary>Runs <paramref name="write"/>; a failure of the database becomes a refusal saying it could not <paramref name="what"/>.</summary>
    public static async Task<T> WriteAsync<T>(string what, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException)
        {
            throw Refusal(what, ex);
        }
    }

    /// <inheritdoc cref="WriteAsync{T}"/>
    public static Task WriteAsync(string what, Func<Task> write) =>
        WriteAsync(what, async () =>
        {
            await write();
            return true;
        });

    private static CaException Refusal(string what, Exception ex) =>
        new(CaErrorKind.StorageFailed, $"The issuance database could not {what} ({Reason(ex)}); nothing of it was recorded.", ex);
}
