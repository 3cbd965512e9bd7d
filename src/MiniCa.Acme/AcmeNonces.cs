using System.Security.Cryptography;
using MiniCa.Acme.Jws;
using MiniCa.Core.Acme;

namespace MiniCa.Acme;

/// <summary>
/// Replay nonces (RFC 8555 §6.5): 128 random bits, stored so that any node accepts a nonce any other node issued,
/// each accepted once, for an hour.
/// </summary>
internal sealed class AcmeNonces(IAcmeStore store, TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public async Task<string> NewAsync(CancellationToken cancellationToken)
    {
        var nonce = Base64Url.Encode(RandomNumberGenerator.GetBytes(16));
        await store.AddNonceAsync(nonce, time.GetUtcNow() + Lifetime, cancellationToken);
        return nonce;
    }

    public Task<bool> UseAsync(string nonce, CancellationToken cancellationToken) =>
        nonce.Length is > 0 and <= 64 ? store.ConsumeNonceAsync(nonce, time.GetUtcNow(), cancellationToken) : Task.FromResult(false);
}
