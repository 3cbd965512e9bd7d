using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Authorities;
using MiniCa.Core.Errors;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>CA certificate records in the issuance database.</summary>
public sealed class EfAuthorityStore(IDbContextFactory<MiniCaDbContext> contexts, WriteGate gate, TimeProvider time) : IAuthorityStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<AuthorityCertificate>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Authorities.AsNoTracking().OrderBy(a => a.Id).ToListAsync(cancellationToken);
        return rows.Select(r => r.ToDomain()).ToList();
    }

    /// <inheritdoc />
    public async Task<AuthorityCertificate?> FindActiveAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Authorities.AsNoTracking()
            .SingleOrDefaultAsync(a => a.Name == name && a.Status == AuthorityStatus.Active, cancellationToken);
        return row?.ToDomain();
    }

    /// <inheritdoc />
    public async Task RecordKeyGenerationAsync(KeyGeneration generation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generation);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.KeyGenerations.Add(KeyGenerationEntity.From(generation));
        db.AuditEvents.Add(new AuditEventEntity
        {
            At = generation.StartedAt,
            Actor = "ceremony",
            Action = "authority.key_generating",
            Subject = $"authority:{generation.Name}",
            Details = $"{generation.KeyAlgorithm} key '{generation.Name}' with CKA_ID {generation.KeyId}, generated in the HSM next",
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<KeyGeneration?> FindKeyGenerationAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.KeyGenerations.AsNoTracking()
            .Where(g => g.Name == name)
            .OrderByDescending(g => g.Id)
            .FirstOrDefaultAsync(cancellationToken);
        return row?.ToDomain();
    }

    /// <inheritdoc />
    public async Task ReserveAsync(AuthorityCertificate pending, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pending);
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        db.Authorities.Add(AuthorityEntity.Reserve(pending, time.GetUtcNow()));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            throw new CaException(
                CaErrorKind.AlreadyExists,
                $"Authority '{pending.Name}' or serial {pending.SerialHex} is already recorded.",
                ex);
        }
    }

    /// <inheritdoc />
    public async Task ActivateAsync(string name, byte[] certificateDer, CancellationToken cancellationToken = default)
    {
        await using var turn = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Authorities.SingleOrDefaultAsync(a => a.Name == name, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"Authority '{name}' is not recorded.");
        var now = time.GetUtcNow();
        row.Activate(certificateDer, now);
        db.AuditEvents.Add(new AuditEventEntity
        {
            At = now,
            Actor = "ceremony",
            Action = "authority.created",
            Subject = $"authority:{name}",
            Details = $"{row.Subject}, serial {row.SerialHex}, issued by {row.IssuerName}, key {row.KeyUri}",
        });
        await db.SaveChangesAsync(cancellationToken);
    }
}
