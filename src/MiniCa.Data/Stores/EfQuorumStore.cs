using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Errors;
using MiniCa.Core.Quorum;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>Quorum operations in the issuance database (shared by every node and the CLI).</summary>
public sealed class EfQuorumStore(IDbContextFactory<MiniCaDbContext> contexts, WriteGate gate) : IQuorumStore
{
    /// <inheritdoc />
    public async Task<QuorumOperation?> FindOpenAsync(string kind, string target, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var open = await db.QuorumOperations.AsNoTracking().Include(o => o.Approvals)
            .Where(o => o.Kind == kind && o.Target == target && (o.Status == QuorumStatus.Pending || o.Status == QuorumStatus.Approved))
            .OrderByDescending(o => o.Id)
            .ToListAsync(cancellationToken);
        return open.Where(o => o.ExpiresAt > now).Select(o => ToRecord(o, now)).FirstOrDefault();
    }

    /// <inheritdoc />
    public async Task<QuorumOperation> CreateAsync(string kind, string target, string requestedBy, int requiredApprovals, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        await using var _ = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entity = new QuorumOperationEntity
        {
            Kind = kind,
            Target = target,
            RequestedBy = requestedBy,
            RequestedAt = now,
            ExpiresAt = expiresAt,
            RequiredApprovals = requiredApprovals,
            Status = QuorumStatus.Pending,
        };
        db.QuorumOperations.Add(entity);
        await db.SaveChangesAsync(cancellationToken);
        return ToRecord(entity, now);
    }

    /// <inheritdoc />
    public async Task<QuorumOperation?> FindAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var entity = await db.QuorumOperations.AsNoTracking().Include(o => o.Approvals).FirstOrDefaultAsync(o => o.Id == id, cancellationToken);
        return entity is null ? null : ToRecord(entity, DateTimeOffset.UtcNow);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<QuorumOperation>> ListAsync(int count, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow;
        var list = await db.QuorumOperations.AsNoTracking().Include(o => o.Approvals).OrderByDescending(o => o.Id).Take(count).ToListAsync(cancellationToken);
        return list.Select(o => ToRecord(o, now)).ToList();
    }

    /// <inheritdoc />
    public async Task<QuorumOperation> ApproveAsync(long id, string approver, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var _ = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var entity = await db.QuorumOperations.Include(o => o.Approvals).FirstOrDefaultAsync(o => o.Id == id, cancellationToken)
            ?? throw new CaException(CaErrorKind.NotFound, $"Quorum operation #{id} does not exist.");
        var current = ToRecord(entity, now);
        if (current.Status is QuorumStatus.Executed or QuorumStatus.Expired)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Quorum operation {current.Title} is {current.Status.ToString().ToLowerInvariant()}; it cannot be approved.");
        }

        if (entity.Approvals.Any(a => a.Approver == approver))
        {
            throw new CaException(CaErrorKind.AlreadyExists, $"{approver} has already approved quorum operation {current.Title}; each administrator approves once.");
        }

        entity.Approvals.Add(new QuorumApprovalEntity { Approver = approver, At = now });
        if (entity.Approvals.Count >= entity.RequiredApprovals)
        {
            entity.Status = QuorumStatus.Approved;
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            // The unique (operation, approver) index: the same administrator approved at the same moment elsewhere.
            throw new CaException(CaErrorKind.AlreadyExists, $"{approver} has already approved quorum operation {current.Title}.", ex);
        }

        return ToRecord(entity, now);
    }

    /// <inheritdoc />
    public async Task<QuorumOperation> MarkExecutedAsync(long id, string outcome, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var _ = await gate.EnterAsync(cancellationToken);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // One statement that only an approved, unexpired operation passes: two runs cannot both execute it.
        var changed = await db.QuorumOperations
            .Where(o => o.Id == id && o.Status == QuorumStatus.Approved)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, QuorumStatus.Executed).SetProperty(o => o.ExecutedAt, now).SetProperty(o => o.Outcome, outcome), cancellationToken);
        if (changed != 1)
        {
            throw new CaException(CaErrorKind.InvalidState, $"Quorum operation #{id} is not approved (or has run already).");
        }

        return (await FindAsync(id, cancellationToken))!;
    }

    private static QuorumOperation ToRecord(QuorumOperationEntity entity, DateTimeOffset now) => new()
    {
        Id = entity.Id,
        Kind = entity.Kind,
        Target = entity.Target,
        RequestedBy = entity.RequestedBy,
        RequestedAt = entity.RequestedAt,
        ExpiresAt = entity.ExpiresAt,
        RequiredApprovals = entity.RequiredApprovals,
        Status = entity.Status != QuorumStatus.Executed && entity.ExpiresAt <= now ? QuorumStatus.Expired : entity.Status,
        Approvals = entity.Approvals.OrderBy(a => a.At).Select(a => new QuorumApproval(a.Approver, a.At)).ToList(),
        ExecutedAt = entity.ExecutedAt,
        Outcome = entity.Outcome,
    };
}
