using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Acme;
using MiniCa.Core.Errors;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>ACME state in the issuance database, so that every node sees the same nonces, accounts and orders.</summary>
public sealed class EfAcmeStore(IDbContextFactory<MiniCaDbContext> contexts, WriteGate gate) : IAcmeStore
{
    private int _nonceWrites;

    /// <inheritdoc />
    public async Task AddNonceAsync(string nonce, DateTimeOffset expires, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.AcmeNonces.Add(new AcmeNonceEntity { Value = nonce, Expires = expires });
        await db.SaveChangesAsync(cancellationToken);
        // Unused nonces expire; sweeping now and then keeps the table small without a timer.
        if (Interlocked.Increment(ref _nonceWrites) % 500 == 0)
        {
            var now = expires.AddHours(-1);
            await db.AcmeNonces.Where(n => n.Expires < now).ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<bool> ConsumeNonceAsync(string nonce, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // One statement: of two nodes racing for the same nonce, exactly one deletes it.
        return await db.AcmeNonces.Where(n => n.Value == nonce && n.Expires > now).ExecuteDeleteAsync(cancellationToken) == 1;
    }

    /// <inheritdoc />
    public async Task<AcmeAccount?> FindAccountAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entity = await db.AcmeAccounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        return entity is null ? null : ToRecord(entity);
    }

    /// <inheritdoc />
    public async Task<AcmeAccount?> FindAccountByThumbprintAsync(string thumbprint, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entity = await db.AcmeAccounts.AsNoTracking().SingleOrDefaultAsync(a => a.Thumbprint == thumbprint, cancellationToken);
        return entity is null ? null : ToRecord(entity);
    }

    /// <inheritdoc />
    public async Task<AcmeAccount> CreateAccountAsync(string thumbprint, string jwk, IReadOnlyList<string> contacts, string? eabKeyId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.AcmeAccounts.AnyAsync(a => a.Thumbprint == thumbprint, cancellationToken))
        {
            throw new CaException(CaErrorKind.AlreadyExists, "An account with this key exists.");
        }

        AcmeEabKeyEntity? eab = null;
        if (eabKeyId is not null)
        {
            eab = await db.AcmeEabKeys.SingleOrDefaultAsync(k => k.KeyId == eabKeyId, cancellationToken)
                ?? throw new CaException(CaErrorKind.Forbidden, "The external account key is unknown.");
            if (eab.AccountId is not null)
            {
                throw new CaException(CaErrorKind.Forbidden, "The external account key has already been used for another account.");
            }
        }

        var account = new AcmeAccountEntity
        {
            Thumbprint = thumbprint,
            Jwk = jwk,
            Contacts = string.Join('\n', contacts),
            Status = AcmeAccountStatus.Valid,
            CreatedAt = now,
            ExternalAccountId = eab?.KeyId,
            PortalUser = eab?.PortalUser,
        };
        db.AcmeAccounts.Add(account);
        await db.SaveChangesAsync(cancellationToken);
        if (eab is not null)
        {
            eab.AccountId = account.Id;
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return ToRecord(account);
    }

    /// <inheritdoc />
    public async Task<AcmeAccount> UpdateAccountAsync(long id, IReadOnlyList<string>? contacts, AcmeAccountStatus? status, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var account = await db.AcmeAccounts.SingleOrDefaultAsync(a => a.Id == id, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"Account {id} does not exist.");
        if (account.Status != AcmeAccountStatus.Valid)
        {
            throw new CaException(CaErrorKind.Forbidden, $"Account {id} is {account.Status.ToString().ToLowerInvariant()}.");
        }

        if (contacts is not null)
        {
            account.Contacts = string.Join('\n', contacts);
        }

        if (status is { } next)
        {
            account.Status = next;
        }

        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(account);
    }

    /// <inheritdoc />
    public async Task<AcmeAccount> ChangeKeyAsync(long id, string thumbprint, string jwk, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (await db.AcmeAccounts.AnyAsync(a => a.Thumbprint == thumbprint, cancellationToken))
        {
            throw new CaException(CaErrorKind.AlreadyExists, "Another account already uses the new key.");
        }

        var account = await db.AcmeAccounts.SingleOrDefaultAsync(a => a.Id == id, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"Account {id} does not exist.");
        account.Thumbprint = thumbprint;
        account.Jwk = jwk;
        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(account);
    }

    /// <inheritdoc />
    public async Task<int> CountOrdersSinceAsync(long accountId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.AcmeOrders.CountAsync(o => o.AccountId == accountId && o.CreatedAt >= since, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<AcmeOrder> CreateOrderAsync(AcmeOrderDraft draft, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var order = new AcmeOrderEntity
        {
            AccountId = draft.AccountId,
            Status = AcmeOrderStatus.Pending,
            Identifiers = string.Join('\n', draft.Identifiers.Select(i => i.ToString())),
            Profile = draft.Profile,
            Expires = draft.Expires,
            NotBefore = draft.NotBefore,
            NotAfter = draft.NotAfter,
            Replaces = draft.Replaces,
            CreatedAt = now,
        };
        for (var i = 0; i < draft.Identifiers.Count; i++)
        {
            var identifier = draft.Identifiers[i];
            var wildcard = identifier.Type == "dns" && identifier.Value.StartsWith("*.", StringComparison.Ordinal);
            order.Authorizations.Add(new AcmeAuthorizationEntity
            {
                AccountId = draft.AccountId,
                IdentifierType = identifier.Type,
                IdentifierValue = wildcard ? identifier.Value[2..] : identifier.Value,
                Wildcard = wildcard,
                Status = AcmeAuthorizationStatus.Pending,
                Expires = draft.Expires,
                Challenges = draft.Challenges[i].Select(c => new AcmeChallengeEntity { Type = c.Type, Token = c.Token, Status = AcmeChallengeStatus.Pending }).ToList(),
            });
        }

        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.AcmeOrders.Add(order);
        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(order, now);
    }

    /// <inheritdoc />
    public async Task<AcmeOrder?> FindOrderAsync(long id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var order = await db.AcmeOrders.AsNoTracking().Include(o => o.Authorizations).SingleOrDefaultAsync(o => o.Id == id, cancellationToken);
        return order is null ? null : ToRecord(order, now);
    }

    /// <inheritdoc />
    public async Task<AcmeAuthorization?> FindAuthorizationAsync(long id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var authorization = await db.AcmeAuthorizations.AsNoTracking().Include(a => a.Challenges).SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        return authorization is null ? null : ToRecord(authorization, now);
    }

    /// <inheritdoc />
    public async Task<AcmeAuthorization?> FindChallengeAsync(long challengeId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var authorizationId = await db.AcmeChallenges.Where(c => c.Id == challengeId).Select(c => (long?)c.AuthorizationId).SingleOrDefaultAsync(cancellationToken);
        return authorizationId is { } id ? await FindAuthorizationAsync(id, now, cancellationToken) : null;
    }

    /// <inheritdoc />
    public async Task<bool> BeginChallengeAsync(long challengeId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var challenge = await db.AcmeChallenges.SingleOrDefaultAsync(c => c.Id == challengeId, cancellationToken);
        if (challenge is null || !AcmeTransitions.CanMove(challenge.Status, AcmeChallengeStatus.Processing))
        {
            return false;
        }

        var authorization = await db.AcmeAuthorizations.SingleAsync(a => a.Id == challenge.AuthorizationId, cancellationToken);
        if (authorization.Status != AcmeAuthorizationStatus.Pending || authorization.Expires <= now)
        {
            return false;
        }

        challenge.Status = AcmeChallengeStatus.Processing;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <inheritdoc />
    public async Task CompleteChallengeAsync(long challengeId, bool valid, string? errorType, string? errorDetail, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var challenge = await db.AcmeChallenges.SingleAsync(c => c.Id == challengeId, cancellationToken);
        var next = valid ? AcmeChallengeStatus.Valid : AcmeChallengeStatus.Invalid;
        if (!AcmeTransitions.CanMove(challenge.Status, next))
        {
            throw new CaException(CaErrorKind.InvalidState, $"Challenge {challengeId} is {challenge.Status} and cannot become {next}.");
        }

        challenge.Status = next;
        challenge.ValidatedAt = valid ? now : null;
        challenge.ErrorType = errorType;
        challenge.ErrorDetail = Truncate(errorDetail);
        var authorization = await db.AcmeAuthorizations.SingleAsync(a => a.Id == challenge.AuthorizationId, cancellationToken);
        authorization.Status = AcmeTransitions.AfterChallenge(authorization.Status, valid);
        await db.SaveChangesAsync(cancellationToken);
        await UpdateOrderAsync(db, authorization.OrderId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<AcmeAuthorization> DeactivateAuthorizationAsync(long id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using (await gate.EnterAsync(cancellationToken))
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var authorization = await db.AcmeAuthorizations.SingleOrDefaultAsync(a => a.Id == id, cancellationToken)
                ?? throw new CaException(CaErrorKind.NotFound, $"Authorization {id} does not exist.");
            if (authorization.Status is not (AcmeAuthorizationStatus.Pending or AcmeAuthorizationStatus.Valid))
            {
                throw new CaException(CaErrorKind.InvalidState, $"Authorization {id} is {authorization.Status.ToString().ToLowerInvariant()} and cannot be deactivated.");
            }

            authorization.Status = AcmeAuthorizationStatus.Deactivated;
            await db.SaveChangesAsync(cancellationToken);
            await UpdateOrderAsync(db, authorization.OrderId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return (await FindAuthorizationAsync(id, now, cancellationToken))!;
    }

    /// <inheritdoc />
    public async Task<bool> BeginFinalizeAsync(long orderId, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // A single conditional update: two finalize calls racing cannot both issue.
        return await db.AcmeOrders.Where(o => o.Id == orderId && o.Status == AcmeOrderStatus.Ready)
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.Status, AcmeOrderStatus.Processing), cancellationToken) == 1;
    }

    /// <inheritdoc />
    public async Task CompleteOrderAsync(long orderId, string? certificateSerial, long? requestId, string? errorType, string? errorDetail, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var order = await db.AcmeOrders.SingleAsync(o => o.Id == orderId, cancellationToken);
        if (!AcmeTransitions.CanComplete(order.Status))
        {
            throw new CaException(CaErrorKind.InvalidState, $"Order {orderId} is {order.Status} and cannot be completed.");
        }

        order.Status = certificateSerial is null ? AcmeOrderStatus.Invalid : AcmeOrderStatus.Valid;
        order.CertificateSerial = certificateSerial;
        order.RequestId = requestId;
        order.ErrorType = errorType;
        order.ErrorDetail = Truncate(errorDetail);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<AcmeOrder?> FindOrderByCertificateAsync(string serialHex, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var order = await db.AcmeOrders.AsNoTracking().Include(o => o.Authorizations).FirstOrDefaultAsync(o => o.CertificateSerial == serialHex, cancellationToken);
        return order is null ? null : ToRecord(order, DateTimeOffset.MinValue);
    }

    /// <inheritdoc />
    public async Task<AcmeEabKey?> FindEabKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var key = await db.AcmeEabKeys.AsNoTracking().SingleOrDefaultAsync(k => k.KeyId == keyId, cancellationToken);
        return key is null ? null : new AcmeEabKey { KeyId = key.KeyId, HmacKey = key.HmacKey, PortalUser = key.PortalUser, CreatedBy = key.CreatedBy, CreatedAt = key.CreatedAt, AccountId = key.AccountId };
    }

    /// <inheritdoc />
    public async Task AddEabKeyAsync(AcmeEabKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.AcmeEabKeys.Add(new AcmeEabKeyEntity { KeyId = key.KeyId, HmacKey = key.HmacKey, PortalUser = key.PortalUser, CreatedBy = key.CreatedBy, CreatedAt = key.CreatedAt });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AcmeAuthorization>> ListProcessingAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var authorizations = await db.AcmeAuthorizations.AsNoTracking().Include(a => a.Challenges)
            .Where(a => a.Challenges.Any(c => c.Status == AcmeChallengeStatus.Processing)).OrderBy(a => a.Id).Take(1000).ToListAsync(cancellationToken);
        return authorizations.Select(a => ToRecord(a, now)).ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<long>> ListAccountOrdersAsync(long accountId, int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.AcmeOrders.AsNoTracking().Where(o => o.AccountId == accountId).OrderByDescending(o => o.Id).Take(Math.Clamp(limit, 1, 1000))
            .Select(o => o.Id).ToListAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AcmeAccount>> ListAccountsAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var accounts = await db.AcmeAccounts.AsNoTracking().OrderByDescending(a => a.Id).Take(Math.Clamp(limit, 1, 500)).ToListAsync(cancellationToken);
        return accounts.Select(ToRecord).ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AcmeOrder>> ListOrdersAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var orders = await db.AcmeOrders.AsNoTracking().Include(o => o.Authorizations).OrderByDescending(o => o.Id).Take(Math.Clamp(limit, 1, 500)).ToListAsync(cancellationToken);
        return orders.Select(o => ToRecord(o, DateTimeOffset.MinValue)).ToList();
    }

    private static async Task UpdateOrderAsync(MiniCaDbContext db, long orderId, CancellationToken cancellationToken)
    {
        var order = await db.AcmeOrders.Include(o => o.Authorizations).SingleAsync(o => o.Id == orderId, cancellationToken);
        var next = AcmeTransitions.FromAuthorizations(order.Status, order.Authorizations.Select(a => a.Status));
        if (next != order.Status)
        {
            order.Status = next;
            if (next == AcmeOrderStatus.Invalid)
            {
                var failed = order.Authorizations.First(a => a.Status is not (AcmeAuthorizationStatus.Pending or AcmeAuthorizationStatus.Valid));
                order.ErrorType = "unauthorized";
                order.ErrorDetail = $"The authorization for {failed.IdentifierType}:{failed.IdentifierValue} is {failed.Status.ToString().ToLowerInvariant()}.";
            }

            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static AcmeAccount ToRecord(AcmeAccountEntity a) => new()
    {
        Id = a.Id,
        Thumbprint = a.Thumbprint,
        Jwk = a.Jwk,
        Contacts = CertificateRequestEntity.Split(a.Contacts),
        Status = a.Status,
        CreatedAt = a.CreatedAt,
        ExternalAccountId = a.ExternalAccountId,
        PortalUser = a.PortalUser,
    };

    private static AcmeOrder ToRecord(AcmeOrderEntity o, DateTimeOffset now)
    {
        var status = o.Status;
        var (errorType, errorDetail) = (o.ErrorType, o.ErrorDetail);
        if (status is AcmeOrderStatus.Pending or AcmeOrderStatus.Ready && o.Expires <= now)
        {
            // RFC 8555 §7.1.6: an order past its expiry is invalid.
            (status, errorType, errorDetail) = (AcmeOrderStatus.Invalid, "malformed", "The order expired.");
        }

        return new AcmeOrder
        {
            Id = o.Id,
            AccountId = o.AccountId,
            Status = status,
            Identifiers = CertificateRequestEntity.Split(o.Identifiers).Select(i => i.Split(':', 2)).Select(p => new AcmeIdentifier(p[0], p[1])).ToList(),
            Profile = o.Profile,
            Expires = o.Expires,
            NotBefore = o.NotBefore,
            NotAfter = o.NotAfter,
            ErrorType = errorType,
            ErrorDetail = errorDetail,
            CertificateSerial = o.CertificateSerial,
            RequestId = o.RequestId,
            Replaces = o.Replaces,
            CreatedAt = o.CreatedAt,
            AuthorizationIds = o.Authorizations.OrderBy(a => a.Id).Select(a => a.Id).ToList(),
        };
    }

    private static AcmeAuthorization ToRecord(AcmeAuthorizationEntity a, DateTimeOffset now) => new()
    {
        Id = a.Id,
        AccountId = a.AccountId,
        OrderId = a.OrderId,
        Identifier = new AcmeIdentifier(a.IdentifierType, a.IdentifierValue),
        Wildcard = a.Wildcard,
        Status = a.Status == AcmeAuthorizationStatus.Pending && a.Expires <= now ? AcmeAuthorizationStatus.Expired : a.Status,
        Expires = a.Expires,
        Challenges = a.Challenges.OrderBy(c => c.Id).Select(c => new AcmeChallenge
        {
            Id = c.Id,
            AuthorizationId = c.AuthorizationId,
            Type = c.Type,
            Token = c.Token,
            Status = c.Status,
            ValidatedAt = c.ValidatedAt,
            ErrorType = c.ErrorType,
            ErrorDetail = c.ErrorDetail,
        }).ToList(),
    };

    private static string? Truncate(string? text) => text is { Length: > 2048 } ? text[..2048] : text;
}
