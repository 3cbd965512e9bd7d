using MiniCa.Hosting.Users;

namespace MiniCa.Web.Portal;

/// <summary>
/// The Users page's door onto <see cref="UserAdministration"/>: one DI scope (and so one database context) per
/// operation, because a Blazor circuit lives far longer than a context should.
/// </summary>
internal sealed class UserDirectory(IServiceScopeFactory scopes)
{
    public Task<IReadOnlyList<UserSummary>> ListAsync() => RunAsync(admin => admin.ListAsync());

    public Task<UserSummary> CreateAsync(string userName, string? email, IReadOnlyCollection<string> roles, string password, string actor) =>
        RunAsync(admin => admin.CreateAsync(userName, email, roles, password, actor));

    public Task<UserSummary> SetRolesAsync(string userName, IReadOnlyCollection<string> roles, string actor) =>
        RunAsync(admin => admin.SetRolesAsync(userName, roles, actor));

    public Task<UserSummary> SetLockedAsync(string userName, bool locked, string actor) =>
        RunAsync(admin => admin.SetLockedAsync(userName, locked, actor));

    private async Task<T> RunAsync<T>(Func<UserAdministration, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<UserAdministration>());
    }
}
