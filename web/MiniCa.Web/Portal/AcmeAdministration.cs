using System.Security.Cryptography;
using MiniCa.Core.Acme;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;

namespace MiniCa.Web.Portal;

/// <summary>A new EAB key as shown once to the officer who made it.</summary>
internal sealed record NewEabKey(string KeyId, string HmacKey, string PortalUser);

/// <summary>
/// The portal's view of ACME: recent accounts and orders, and External Account Binding keys that officers make for a portal user
/// so that the ACME account (and its certificates) is attributable to that person.
/// </summary>
internal sealed class AcmeAdministration(IAcmeStore store, UserDirectory users, IAuditLog audit, TimeProvider time)
{
    public Task<IReadOnlyList<AcmeAccount>> RecentAccountsAsync(int limit = 200, CancellationToken cancellationToken = default) => store.ListAccountsAsync(limit, cancellationToken);

    public Task<IReadOnlyList<AcmeOrder>> RecentOrdersAsync(int limit = 200, CancellationToken cancellationToken = default) => store.ListOrdersAsync(limit, cancellationToken);

    /// <summary>Makes an EAB key for <paramref name="portalUser"/>; the HMAC key is returned once and never shown again.</summary>
    public async Task<NewEabKey> CreateEabKeyAsync(string portalUser, string officer, CancellationToken cancellationToken = default)
    {
        if ((await users.ListAsync()).All(u => !string.Equals(u.UserName, portalUser, StringComparison.Ordinal)))
        {
            throw new CaException(CaErrorKind.NotFound, $"No portal user named '{portalUser}'.");
        }

        var keyId = "eab_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var hmac = RandomNumberGenerator.GetBytes(32);
        await store.AddEabKeyAsync(new AcmeEabKey { KeyId = keyId, HmacKey = hmac, PortalUser = portalUser, CreatedBy = officer, CreatedAt = time.GetUtcNow() }, cancellationToken);
        await audit.RecordAsync(new AuditEntry(officer, "acme.eab-created", $"user:{portalUser}", $"EAB key {keyId}"), cancellationToken);
        return new NewEabKey(keyId, Convert.ToBase64String(hmac).TrimEnd('=').Replace('+', '-').Replace('/', '_'), portalUser);
    }
}
