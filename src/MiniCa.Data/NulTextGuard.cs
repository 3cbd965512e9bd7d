using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using MiniCa.Core.Errors;

namespace MiniCa.Data;

/// <summary>
/// Refuses a NUL character (U+0000) in any text the database is given, on every provider alike, before the statement
/// runs: as <see cref="CaErrorKind.Malformed"/>, which each edge answers as the caller's mistake (HTTP 400, an ACME
/// <c>malformed</c> problem, a message beside the portal's form). PostgreSQL's text cannot hold a NUL: it refused
/// the statement, and the refusal read as a database outage (503; in the portal's forms, "could not be recorded").
/// SQLite stored it, so a database moved to PostgreSQL later could not be copied. A save names the entity and field;
/// any other statement (a search, a sign-in's look-up of a user name) says only that a value holds one.
/// The issuance hot path writes through its own commands (<c>SqliteIssuanceWriter</c>, <c>PostgresIssuanceWriter</c>)
/// and records a request's text with its control characters escaped instead (<c>ControlCharacters</c>).
/// </summary>
public sealed class NulTextGuard : DbCommandInterceptor, ISaveChangesInterceptor
{
    /// <summary>The one instance every context shares: the guard keeps no state.</summary>
    public static NulTextGuard Instance { get; } = new();

    private NulTextGuard()
    {
    }

    /// <inheritdoc />
    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        RefuseInChanges(eventData.Context);
        return result;
    }

    /// <inheritdoc />
    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        RefuseInChanges(eventData.Context);
        return ValueTask.FromResult(result);
    }

    /// <inheritdoc />
    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        RefuseInParameters(command);
        return result;
    }

    /// <inheritdoc />
    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        RefuseInParameters(command);
        return ValueTask.FromResult(result);
    }

    /// <inheritdoc />
    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        RefuseInParameters(command);
        return result;
    }

    /// <inheritdoc />
    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        RefuseInParameters(command);
        return ValueTask.FromResult(result);
    }

    /// <inheritdoc />
    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        RefuseInParameters(command);
        return result;
    }

    /// <inheritdoc />
    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        RefuseInParameters(command);
        return ValueTask.FromResult(result);
    }

    /// <summary>Refuses the save when a text field of an added or changed entity holds a NUL, naming entity and field.</summary>
    private static void RefuseInChanges(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        // Entries() detects the changes first, as the save would right after this.
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified))
            {
                continue;
            }

            foreach (var property in entry.Properties)
            {
                if (property.CurrentValue is string text && text.Contains('\0', StringComparison.Ordinal)
                    && (entry.State == EntityState.Added || property.IsModified))
                {
                    var entity = entry.Metadata.ClrType.Name;
                    entity = entity.EndsWith("Entity", StringComparison.Ordinal) ? entity[..^"Entity".Length] : entity;
                    throw new CaException(CaErrorKind.Malformed,
                        $"The {entity}'s {property.Metadata.Name} holds a NUL character (U+0000), which the issuance database does not store; nothing was recorded.");
                }
            }
        }
    }

    private static void RefuseInParameters(DbCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (DbParameter parameter in command.Parameters)
        {
            if (parameter.Value is string text && text.Contains('\0', StringComparison.Ordinal))
            {
                throw new CaException(CaErrorKind.Malformed,
                    "A value given holds a NUL character (U+0000), which the issuance database can neither store nor search for; nothing was done.");
            }
        }
    }
}
