using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Data;

namespace MiniCa.Web.Tests;

/// <summary>
/// One stored audit event's details changed behind the CA's back, as whoever can write to the database could, and put
/// back when disposed (the portal fixture's log is shared by the tests that run after).
/// </summary>
internal sealed class ChangedAuditEvent : IAsyncDisposable
{
    private readonly IDbContextFactory<MiniCaDbContext> _contexts;
    private readonly long _id;
    private readonly string _details;

    private ChangedAuditEvent(IDbContextFactory<MiniCaDbContext> contexts, long id, string details)
    {
        _contexts = contexts;
        _id = id;
        _details = details;
    }

    /// <summary>Appends <paramref name="appended"/> to event <paramref name="id"/>'s details.</summary>
    public static async Task<ChangedAuditEvent> ChangeAsync(IServiceProvider services, long id, string appended)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        await using var db = await contexts.CreateDbContextAsync();
        var details = (await db.AuditEvents.SingleAsync(e => e.Id == id)).Details;
        Assert.Equal(1, await db.AuditEvents.Where(e => e.Id == id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Details, details + appended)));
        return new ChangedAuditEvent(contexts, id, details);
    }

    public async ValueTask DisposeAsync()
    {
        await using var db = await _contexts.CreateDbContextAsync();
        await db.AuditEvents.Where(e => e.Id == _id).ExecuteUpdateAsync(u => u.SetProperty(e => e.Details, _details));
    }
}
