using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Data;
using MiniCa.Data.Entities;

namespace MiniCa.Web.Security;

/// <summary>A token as its owner sees it in the list (never the secret).</summary>
internal sealed record ApiTokenSummary(long Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// Personal API tokens: <c>mca_</c> + 43 characters of base64url (256 random bits). Only the SHA-256 hash is stored;
/// the secret is returned once, at creation. A token acts as its owner, with the owner's current roles.
/// </summary>
internal sealed class ApiTokens(IDbContextFactory<MiniCaDbContext> contexts, IAuditLog audit, TimeProvider time)
{
    public const string Prefix = "mca_";

    /// <summary>Creates a token for the user <paramref name="userId"/> and returns its secret (shown once).</summary>
    public async Task<string> CreateAsync(string userId, string userName, string name, int? validDays, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        name = (name ?? string.Empty).Trim();
        if (name.Length is 0 or > 100)
        {
            throw new CaException(CaErrorKind.Malformed, "A token needs a name of 1 to 100 characters.");
        }

        if (validDays is < 1 or > 730)
        {
            throw new CaException(CaErrorKind.Malformed, "A token is valid for 1 to 730 days (or without expiry).");
        }

        var secret = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            db.ApiTokens.Add(new ApiTokenEntity
            {
                UserId = userId,
                UserName = userName,
                Name = name,
                Prefix = secret[..10],
                Hash = Hash(secret),
                CreatedAt = now,
                ExpiresAt = validDays is { } days ? now.AddDays(days) : null,
            });
            await db.SaveChangesAsync(cancellationToken);
        }

        await audit.RecordAsync(new AuditEntry(userName, "token.created", $"user:{userName}", $"API token '{name}' ({secret[..10]}…)"), cancellationToken);
        return secret;
    }

    /// <summary>The user's tokens, newest first.</summary>
    public async Task<IReadOnlyList<ApiTokenSummary>> ListAsync(string userId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.Id)
            .Select(t => new ApiTokenSummary(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Revokes one of the user's own tokens.</summary>
    public async Task RevokeAsync(string userId, string userName, long tokenId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId && t.UserId == userId, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"You have no token {tokenId}.");
        if (token.RevokedAt is not null)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Token '{token.Name}' is already revoked.");
        }

        token.RevokedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await audit.RecordAsync(new AuditEntry(userName, "token.revoked", $"user:{userName}", $"API token '{token.Name}' ({token.Prefix}…)"), cancellationToken);
    }

    /// <summary>The owner's user id when <paramref name="secret"/> is a live token, else <see langword="null"/>.</summary>
    public async Task<string?> ValidateAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (!secret.StartsWith(Prefix, StringComparison.Ordinal) || secret.Length != Prefix.Length + 43)
        {
            return null;
        }

        var hash = Hash(secret);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Hash == hash, cancellationToken);
        var now = time.GetUtcNow();
        if (token is null || token.RevokedAt is not null || token.ExpiresAt <= now)
        {
            return null;
        }

        // Last use is kept to the minute: one write per token per minute, not one per call.
        if (token.LastUsedAt is null || now - token.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            token.LastUsedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        return token.UserId;
    }

    internal static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
