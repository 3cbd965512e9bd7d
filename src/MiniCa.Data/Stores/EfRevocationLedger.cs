using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using MiniCa.Core.Errors;
using MiniCa.Core.Keys;
using MiniCa.Core.Ledger;
using MiniCa.Core.Revocation;
using MiniCa.Data.Entities;

namespace MiniCa.Data.Stores;

/// <summary>Revocations and CRL state over EF Core.</summary>
public sealed class EfRevocationLedger(IDbContextFactory<MiniCaDbContext> contexts, WriteGate gate, TimeProvider time) : IRevocationLedger
{
    /// <summary>Attempts at reserving a CRL number when another node reserved one at the same moment.</summary>
    private const int ReserveAttempts = 10;

    /// <summary>Rows whose key fingerprint is filled per transaction.</summary>
    private const int FingerprintBatch = 1000;

    /// <inheritdoc />
    public Task<IReadOnlyList<CertificateRecord>> RecordRevocationAsync(string serialHex, RevocationReason reason, DateTimeOffset? invalidityDate, AuditEntry audit, BlockedKey? block = null, CancellationToken cancellationToken = default) =>
        StoreFailures.WriteAsync<IReadOnlyList<CertificateRecord>>("record the revocation", async () =>
        {
            ArgumentNullException.ThrowIfNull(audit);
            if (block is not null)
            {
                // Older rows' fingerprints first, a turn per batch, so that issuance is not held for all of them.
                await FillKeyFingerprintsAsync(cancellationToken);
            }

            await using var turn = await gate.EnterAsync(cancellationToken);
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            if (block is not null)
            {
                await FillAllKeyFingerprintsAsync(db, cancellationToken);
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (block is not null)
            {
                await db.LockKeyAsync(block.PublicKeySha256, cancellationToken);
            }

            var certificate = await db.Certificates.SingleOrDefaultAsync(c => c.SerialHex == serialHex, cancellationToken)
                ?? throw new CaException(CaErrorKind.NotFound, $"No certificate with serial {serialHex} was issued by this CA.");
            var now = time.GetUtcNow();
            var reasonName = RevocationReasons.Name(reason);
            Revoke(db, certificate, reasonName, invalidityDate, now, audit);

            var revoked = new List<CertificateEntity> { certificate };
            if (block is not null)
            {
                await AddBlockAsync(db, block, cancellationToken);
                revoked.AddRange(await RevokeOthersOfKeyAsync(db, block.PublicKeySha256, certificate.Id, reasonName, invalidityDate, now,
                    audit with { Details = $"{audit.Details}; the key of certificate {serialHex}" }, cancellationToken));
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return revoked.Select(c => c.ToRecord()).ToList();
        });

    /// <inheritdoc />
    public Task<KeyBlockOutcome> BlockKeyAsync(BlockedKey block, AuditEntry audit, CancellationToken cancellationToken = default) =>
        StoreFailures.WriteAsync("record the block of the key", async () =>
        {
            ArgumentNullException.ThrowIfNull(block);
            ArgumentNullException.ThrowIfNull(audit);
            await FillKeyFingerprintsAsync(cancellationToken);
            await using var turn = await gate.EnterAsync(cancellationToken);
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await FillAllKeyFingerprintsAsync(db, cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.LockKeyAsync(block.PublicKeySha256, cancellationToken);
            var now = time.GetUtcNow();
            var earlier = await AddBlockAsync(db, block, cancellationToken);
            db.AuditEvents.Add(new AuditEventEntity { At = now, Actor = audit.Actor, Action = audit.Action, Subject = audit.Subject, Details = audit.Details });
            var revoked = await RevokeOthersOfKeyAsync(db, block.PublicKeySha256, null, RevocationReasons.Name(RevocationReason.KeyCompromise), null, now,
                new AuditEntry(audit.Actor, "certificate.revoked", string.Empty, $"reason keyCompromise; its key was blocked: {audit.Details}"), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new KeyBlockOutcome(earlier ?? block, earlier is null, revoked.Select(c => c.ToRecord()).ToList());
        });

    /// <inheritdoc />
    public Task<BlockedKey?> UnblockKeyAsync(string publicKeySha256, AuditEntry audit, CancellationToken cancellationToken = default) =>
        StoreFailures.WriteAsync("lift the block of the key", async () =>
        {
            ArgumentNullException.ThrowIfNull(audit);
            await using var turn = await gate.EnterAsync(cancellationToken);
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var row = await db.BlockedKeys.SingleOrDefaultAsync(b => b.PublicKeySha256 == publicKeySha256, cancellationToken);
            if (row is null)
            {
                return null;
            }

            var lifted = row.ToDomain();
            db.BlockedKeys.Remove(row);
            db.AuditEvents.Add(new AuditEventEntity
            {
                At = time.GetUtcNow(),
                Actor = audit.Actor,
                Action = audit.Action,
                Subject = audit.Subject,
                Details = $"{audit.Details}; it was blocked on {lifted.BlockedAt.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture)} by {lifted.BlockedBy} ({lifted.Source})",
            });
            await db.SaveChangesAsync(cancellationToken);
            return lifted;
        });

    /// <inheritdoc />
    public Task<int> FillKeyFingerprintsAsync(CancellationToken cancellationToken = default) =>
        StoreFailures.WriteAsync("record key fingerprints", async () =>
        {
            var filled = 0;
            while (true)
            {
                // A turn per batch, so that issuance goes on between batches.
                await using var turn = await gate.EnterAsync(cancellationToken);
                var batch = await FillKeyFingerprintBatchAsync(cancellationToken);
                if (batch == 0)
                {
                    return filled;
                }

                filled += batch;
            }
        });

    /// <summary>Fills up to <see cref="FingerprintBatch"/> rows without a key fingerprint; the caller holds the write gate.</summary>
    private async Task<int> FillKeyFingerprintBatchAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Certificates.Where(c => c.PublicKeySha256 == null).OrderBy(c => c.Id).Take(FingerprintBatch).ToListAsync(cancellationToken);
        foreach (var row in rows)
        {
            string fingerprint;
            try
            {
                fingerprint = PublicKeyFingerprint.Sha256OfTbs(row.TbsDer);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidCastException or IOException or Org.BouncyCastle.Asn1.Asn1ParsingException)
            {
                fingerprint = string.Empty;
            }

            row.FillKeyFingerprint(fingerprint);
        }

        await db.SaveChangesAsync(cancellationToken);
        return rows.Count;
    }

    /// <summary>
    /// Before a key's certificates are looked up: fills every fingerprint still missing, in the caller's turn (the
    /// caller filled the bulk already, batch by batch; this finds rows an older version recorded since).
    /// </summary>
    private async Task FillAllKeyFingerprintsAsync(MiniCaDbContext db, CancellationToken cancellationToken)
    {
        if (await db.Certificates.AnyAsync(c => c.PublicKeySha256 == null, cancellationToken))
        {
            while (await FillKeyFingerprintBatchAsync(cancellationToken) > 0)
            {
            }
        }
    }

    /// <summary>Adds the block unless the key is blocked already; returns the earlier block, if any.</summary>
    private static async Task<BlockedKey?> AddBlockAsync(MiniCaDbContext db, BlockedKey block, CancellationToken cancellationToken)
    {
        var earlier = await db.FindBlockedKeyAsync(block.PublicKeySha256, cancellationToken);
        if (earlier is null)
        {
            db.BlockedKeys.Add(BlockedKeyEntity.From(block));
        }

        return earlier;
    }

    /// <summary>
    /// Revokes every unexpired certificate of the key but <paramref name="except"/>, each with its audit event: the key
    /// is compromised, so is every certificate of it (BR §4.9.1.1 (3)). One revoked earlier for another reason has its
    /// reason raised to keyCompromise (its revocation date stays). Part of the caller's transaction.
    /// </summary>
    private static async Task<List<CertificateEntity>> RevokeOthersOfKeyAsync(
        MiniCaDbContext db, string keySha256, long? except, string reasonName, DateTimeOffset? invalidityDate, DateTimeOffset now, AuditEntry audit, CancellationToken cancellationToken)
    {
        var sameKey = await db.Certificates
            .Where(c => c.PublicKeySha256 == keySha256 && c.Id != except && c.NotAfter > now
                        && (c.Status == Core.Ledger.CertificateStatus.Issued || c.Status == Core.Ledger.CertificateStatus.Signing
                            || (c.Status == Core.Ledger.CertificateStatus.Revoked && c.RevocationReason != reasonName)))
            .ToListAsync(cancellationToken);
        foreach (var other in sameKey)
        {
            Revoke(db, other, reasonName, invalidityDate, now, audit);
        }

        return sameKey;
    }

    /// <summary>Revokes <paramref name="certificate"/> and adds its audit event, in the caller's transaction.</summary>
    private static void Revoke(MiniCaDbContext db, CertificateEntity certificate, string reasonName, DateTimeOffset? invalidityDate, DateTimeOffset now, AuditEntry audit)
    {
        certificate.Revoke(reasonName, invalidityDate, now);
        db.AuditEvents.Add(new AuditEventEntity
        {
            At = now,
            Actor = audit.Actor,
            Action = audit.Action,
            Subject = $"certificate:{certificate.SerialHex}",
            Details = audit.Details,
        });
    }

    /// <inheritdoc />
    public IEnumerable<RevokedEntry> ReadRevoked(string issuerName, DateTimeOffset? since = null)
    {
        using var db = contexts.CreateDbContext();
        if (db.Database.IsSqlite())
        {
            foreach (var entry in ReadRevokedFromSqlite(db, issuerName, since))
            {
                yield return entry;
            }

            yield break;
        }

        // A no-tracking projection streams row by row: a million revocations never become a million entities.
        var rows = db.Certificates.AsNoTracking()
            .Where(c => c.IssuerName == issuerName && c.Status == Core.Ledger.CertificateStatus.Revoked && (since == null || c.RevocationChangedAt >= since))
            .Select(c => new { c.SerialHex, c.RevokedAt, c.RevocationReason, c.InvalidityDate })
            .AsEnumerable();
        foreach (var row in rows)
        {
            yield return new RevokedEntry(row.SerialHex, row.RevokedAt!.Value, RevocationReasons.Parse(row.RevocationReason!), row.InvalidityDate);
        }
    }

    /// <summary>
    /// The same rows through a plain data reader: EF Core's materialisation costs about 9 µs a row here, which a
    /// CRL of a million entries cannot afford. Table and column names come from the EF model, and instants are
    /// decoded with the model's own converter.
    /// </summary>
    private static IEnumerable<RevokedEntry> ReadRevokedFromSqlite(MiniCaDbContext db, string issuerName, DateTimeOffset? since)
    {
        var entity = db.Model.FindEntityType(typeof(CertificateEntity))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Column(string property) => entity.FindProperty(property)!.GetColumnName(table)!;
        var instants = new DateTimeOffsetToBinaryConverter();

        var connection = db.Database.GetDbConnection();
        db.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT \"{Column(nameof(CertificateEntity.SerialHex))}\", \"{Column(nameof(CertificateEntity.RevokedAt))}\", " +
            $"\"{Column(nameof(CertificateEntity.RevocationReason))}\", \"{Column(nameof(CertificateEntity.InvalidityDate))}\" " +
            // The partial covering index of revoked certificates, named (without statistics the planner prefers the
            // status index and reads every wide row); the status is a literal, as the index's condition requires.
            $"FROM \"{table.Name}\" INDEXED BY \"IX_Certificates_Revoked\" WHERE \"{Column(nameof(CertificateEntity.IssuerName))}\" = $issuer AND \"{Column(nameof(CertificateEntity.Status))}\" = '{nameof(Core.Ledger.CertificateStatus.Revoked)}'" +
            (since is null ? string.Empty : $" AND \"{Column(nameof(CertificateEntity.RevocationChangedAt))}\" >= $since");
        var issuer = command.CreateParameter();
        issuer.ParameterName = "$issuer";
        issuer.Value = issuerName;
        command.Parameters.Add(issuer);
        if (since is { } from)
        {
            var sinceParameter = command.CreateParameter();
            sinceParameter.ParameterName = "$since";
            sinceParameter.Value = instants.ConvertToProvider(from);
            command.Parameters.Add(sinceParameter);
        }

        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new RevokedEntry(
                reader.GetString(0),
                (DateTimeOffset)instants.ConvertFromProvider(reader.GetInt64(1))!,
                RevocationReasons.Parse(reader.GetString(2)),
                reader.IsDBNull(3) ? null : (DateTimeOffset)instants.ConvertFromProvider(reader.GetInt64(3))!);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<(string SerialHex, DateTimeOffset ChangedAt)>> RevokedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Certificates.AsNoTracking()
            .Where(c => c.Status == Core.Ledger.CertificateStatus.Revoked && c.RevocationChangedAt >= since)
            .Select(c => new { c.SerialHex, c.RevocationChangedAt })
            .ToListAsync(cancellationToken);
        return rows.Select(r => (r.SerialHex, r.RevocationChangedAt!.Value)).ToList();
    }

    /// <inheritdoc />
    public Task<long> ReserveCrlNumberAsync(string authority, CancellationToken cancellationToken = default) =>
        StoreFailures.WriteAsync("reserve a CRL number", async () =>
        {
            await using var turn = await gate.EnterAsync(cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                await using var db = await contexts.CreateDbContextAsync(cancellationToken);
                try
                {
                    // Incremented in place and read back in the same transaction (the row stays locked until the
                    // commit), never loading the row: it holds the latest CRL, 50 MB for a million entries.
                    await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
                    {
                        var updated = await db.CrlStates.Where(s => s.Authority == authority)
                            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastNumber, s => s.LastNumber + 1), cancellationToken);
                        if (updated == 1)
                        {
                            var number = await db.CrlStates.Where(s => s.Authority == authority).Select(s => s.LastNumber).SingleAsync(cancellationToken);
                            await transaction.CommitAsync(cancellationToken);
                            return number;
                        }
                    }

                    db.CrlStates.Add(new CrlStateEntity { Authority = authority, LastNumber = 1 });
                    await db.SaveChangesAsync(cancellationToken);
                    return 1;
                }
                catch (DbUpdateException) when (attempt < ReserveAttempts)
                {
                    // Another node reserved a number (or created the row) first: read again and take the next one.
                }
            }
        });

    /// <inheritdoc />
    public Task RecordCrlAsync(CrlRecord crl, AuditEntry audit, CancellationToken cancellationToken = default) =>
        StoreFailures.WriteAsync("record the CRL", async () =>
        {
            ArgumentNullException.ThrowIfNull(crl);
            ArgumentNullException.ThrowIfNull(audit);
            await using var turn = await gate.EnterAsync(cancellationToken);
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            // Delta CRLs are stored under their own key; their numbers come from the authority's sequence.
            // Read without the previous CRL's bytes: only the numbers decide.
            var state = await db.CrlStates.Where(s => s.Authority == crl.Authority)
                .Select(s => new CrlStateEntity { Authority = s.Authority, LastNumber = s.LastNumber, PublishedNumber = s.PublishedNumber })
                .AsNoTracking()
                .SingleOrDefaultAsync(cancellationToken);
            if (state is null)
            {
                state = new CrlStateEntity { Authority = crl.Authority, LastNumber = crl.Number };
                db.CrlStates.Add(state);
            }

            if (crl.Number <= state.PublishedNumber)
            {
                // A newer CRL was published meanwhile (another node): keep it.
                return;
            }

            db.AuditEvents.Add(new AuditEventEntity { At = time.GetUtcNow(), Actor = audit.Actor, Action = audit.Action, Subject = audit.Subject, Details = audit.Details });
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (db.Entry(state).State == EntityState.Added)
            {
                state.PublishedNumber = crl.Number;
                state.ThisUpdate = crl.ThisUpdate;
                state.NextUpdate = crl.NextUpdate;
                state.Entries = crl.Entries;
                await db.SaveChangesAsync(cancellationToken);
            }
            else
            {
                // An update in place: a tracked 50 MB CRL would be copied for change detection.
                await db.SaveChangesAsync(cancellationToken);
                var updated = await db.CrlStates
                    .Where(s => s.Authority == crl.Authority && s.PublishedNumber < crl.Number)
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(s => s.PublishedNumber, crl.Number)
                        .SetProperty(s => s.ThisUpdate, crl.ThisUpdate)
                        .SetProperty(s => s.NextUpdate, crl.NextUpdate)
                        .SetProperty(s => s.Entries, crl.Entries), cancellationToken);
                if (updated == 0)
                {
                    await transaction.CommitAsync(cancellationToken);
                    return;
                }
            }

            await WriteDerAsync(db, crl, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });

    /// <summary>
    /// Stores the CRL's bytes in their own row. On SQLite they are streamed into a zero-filled blob (incremental
    /// blob I/O): binding a 50 MB parameter would make SQLite copy it first.
    /// </summary>
    private static async Task WriteDerAsync(MiniCaDbContext db, CrlRecord crl, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
        {
            if (await db.CrlBlobs.Where(b => b.Authority == crl.Authority).ExecuteUpdateAsync(u => u.SetProperty(b => b.Der, crl.Der), cancellationToken) == 0)
            {
                db.CrlBlobs.Add(new CrlBlobEntity { Authority = crl.Authority, Der = crl.Der });
                await db.SaveChangesAsync(cancellationToken);
            }

            return;
        }

        var entity = db.Model.FindEntityType(typeof(CrlBlobEntity))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var der = entity.FindProperty(nameof(CrlBlobEntity.Der))!.GetColumnName(table)!;
        var key = entity.FindProperty(nameof(CrlBlobEntity.Authority))!.GetColumnName(table)!;
        var connection = (Microsoft.Data.Sqlite.SqliteConnection)db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = (Microsoft.Data.Sqlite.SqliteTransaction)Microsoft.EntityFrameworkCore.Storage.DbContextTransactionExtensions.GetDbTransaction(db.Database.CurrentTransaction!);
        // Delete, then insert a zero-filled blob as the record's last column: SQLite keeps it virtual until it is
        // written below. (An upsert would load the old 50 MB row and materialise the new one.)
        command.CommandText = $"DELETE FROM \"{table.Name}\" WHERE \"{key}\" = $authority; " +
                              $"INSERT INTO \"{table.Name}\" (\"{key}\", \"{der}\") VALUES ($authority, zeroblob($length)) RETURNING rowid";
        command.Parameters.AddWithValue("$length", crl.Der.Length);
        command.Parameters.AddWithValue("$authority", crl.Authority);
        var rowId = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        await using var blob = new Microsoft.Data.Sqlite.SqliteBlob(connection, table.Name, der, rowId);
        await blob.WriteAsync(crl.Der, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<CrlRecord?> FindCrlAsync(string authority, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // One read transaction: the numbers and the bytes come from the same published CRL.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var state = await db.CrlStates.AsNoTracking().SingleOrDefaultAsync(s => s.Authority == authority && s.PublishedNumber > 0, cancellationToken);
        var der = state is null ? null : await db.CrlBlobs.AsNoTracking().Where(b => b.Authority == authority).Select(b => b.Der).SingleOrDefaultAsync(cancellationToken);
        return state is null || der is null
            ? null
            : new CrlRecord(state.Authority, state.PublishedNumber, state.ThisUpdate!.Value, state.NextUpdate!.Value, state.Entries, der);
    }

    /// <inheritdoc />
    public async Task<CrlRecord?> FindCrlSummaryAsync(string authority, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var state = await db.CrlStates.AsNoTracking()
            .Where(s => s.Authority == authority && s.PublishedNumber > 0)
            .Select(s => new { s.PublishedNumber, s.ThisUpdate, s.NextUpdate, s.Entries })
            .SingleOrDefaultAsync(cancellationToken);
        return state is null
            ? null
            : new CrlRecord(authority, state.PublishedNumber, state.ThisUpdate!.Value, state.NextUpdate!.Value, state.Entries, []);
    }
}
