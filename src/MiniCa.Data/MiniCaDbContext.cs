using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using MiniCa.Core.Ledger;
using MiniCa.Data.Entities;

namespace MiniCa.Data;

/// <summary>The issuance database, which also holds the portal's users and roles (ASP.NET Core Identity).</summary>
public sealed class MiniCaDbContext(DbContextOptions<MiniCaDbContext> options)
    : IdentityDbContext<MiniCaUser, IdentityRole, string>(options)
{
    /// <summary>CA certificates.</summary>
    public DbSet<AuthorityEntity> Authorities => Set<AuthorityEntity>();

    /// <summary>CA keys recorded before the HSM generated them.</summary>
    public DbSet<KeyGenerationEntity> KeyGenerations => Set<KeyGenerationEntity>();

    /// <summary>Audit keys replaced by a recorded rotation, each once.</summary>
    public DbSet<AuditKeyRotationEntity> AuditKeyRotations => Set<AuditKeyRotationEntity>();

    /// <summary>Public keys no longer certified (BR §6.1.1.3 (4)).</summary>
    public DbSet<BlockedKeyEntity> BlockedKeys => Set<BlockedKeyEntity>();

    /// <summary>The block of the key whose SubjectPublicKeyInfo has this SHA-256 (lowercase hex), if it is blocked.</summary>
    public async Task<BlockedKey?> FindBlockedKeyAsync(string publicKeySha256, CancellationToken cancellationToken = default) =>
        (await BlockedKeys.AsNoTracking().FirstOrDefaultAsync(b => b.PublicKeySha256 == publicKeySha256, cancellationToken))?.ToDomain();

    /// <summary>
    /// On PostgreSQL, takes a lock on the key (a transaction-scoped advisory lock on its fingerprint's first 64 bits)
    /// until the caller's transaction ends, so that recording a certificate of a key and blocking the key never
    /// interleave: without it, a block could commit between the look-up and the insert of the certificate, and its
    /// revocation of the key's certificates would miss the row. SQLite's single writer gives the same already.
    /// </summary>
    public async Task LockKeyAsync(string publicKeySha256, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publicKeySha256);
        if (IsPostgres && publicKeySha256.Length >= 16)
        {
            var key = KeyLockId(publicKeySha256);
            await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({key})", cancellationToken);
        }
    }

    /// <summary>Whether this context runs on PostgreSQL (through Npgsql).</summary>
    public bool IsPostgres => Database.ProviderName == "Npgsql.EntityFrameworkCore.PostgreSQL";

    /// <summary>The advisory lock of a key: the first 64 bits of its fingerprint.</summary>
    internal static long KeyLockId(string publicKeySha256) =>
        System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(Convert.FromHexString(publicKeySha256.AsSpan(0, 16)));

    /// <summary>Certificate requests.</summary>
    public DbSet<CertificateRequestEntity> Requests => Set<CertificateRequestEntity>();

    /// <summary>Officers' decisions.</summary>
    public DbSet<ApprovalEntity> Approvals => Set<ApprovalEntity>();

    /// <summary>Subscriber certificates.</summary>
    public DbSet<CertificateEntity> Certificates => Set<CertificateEntity>();

    /// <summary>CRL numbers and the latest CRL of each authority.</summary>
    public DbSet<CrlStateEntity> CrlStates => Set<CrlStateEntity>();

    /// <summary>The bytes of each authority's latest CRL.</summary>
    public DbSet<CrlBlobEntity> CrlBlobs => Set<CrlBlobEntity>();

    /// <summary>The audit log.</summary>
    public DbSet<AuditEventEntity> AuditEvents => Set<AuditEventEntity>();

    /// <summary>Requests' identifiers, indexed for search.</summary>
    public DbSet<RequestNameEntity> RequestNames => Set<RequestNameEntity>();

    /// <summary>ACME nonces not yet used.</summary>
    public DbSet<AcmeNonceEntity> AcmeNonces => Set<AcmeNonceEntity>();

    /// <summary>ACME accounts.</summary>
    public DbSet<AcmeAccountEntity> AcmeAccounts => Set<AcmeAccountEntity>();

    /// <summary>ACME orders.</summary>
    public DbSet<AcmeOrderEntity> AcmeOrders => Set<AcmeOrderEntity>();

    /// <summary>ACME authorizations.</summary>
    public DbSet<AcmeAuthorizationEntity> AcmeAuthorizations => Set<AcmeAuthorizationEntity>();

    /// <summary>ACME challenges.</summary>
    public DbSet<AcmeChallengeEntity> AcmeChallenges => Set<AcmeChallengeEntity>();

    /// <summary>External Account Binding keys.</summary>
    public DbSet<AcmeEabKeyEntity> AcmeEabKeys => Set<AcmeEabKeyEntity>();

    /// <summary>Personal API tokens (hashes only).</summary>
    public DbSet<ApiTokenEntity> ApiTokens => Set<ApiTokenEntity>();

    /// <summary>HSM cluster operations waiting for (or given) a quorum of administrators.</summary>
    public DbSet<QuorumOperationEntity> QuorumOperations => Set<QuorumOperationEntity>();

    /// <summary>Administrators' approvals of quorum operations.</summary>
    public DbSet<QuorumApprovalEntity> QuorumApprovals => Set<QuorumApprovalEntity>();

    /// <inheritdoc />
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        if (Database.IsSqlite())
        {
            // SQLite has no date type: store instants as sortable 64-bit numbers so that expiry and time-range
            // queries (ORDER BY, <, >) run in the database. PostgreSQL keeps timestamptz.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
        else
        {
            // timestamptz holds instants; Npgsql writes only UTC ones, so an offset from a client (an ACME or API
            // date) is normalised rather than refused.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcInstantConverter>();
        }
    }

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        base.OnModelCreating(builder);
        builder.Entity<AuthorityEntity>(entity =>
        {
            entity.ToTable("Authorities");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Name).HasMaxLength(32).IsRequired();
            entity.Property(e => e.IssuerName).HasMaxLength(32).IsRequired();
            // RFC 5280 §4.1.2.2: at most 20 octets, so at most 40 hex digits.
            entity.Property(e => e.SerialHex).HasMaxLength(40).IsRequired();
            entity.Property(e => e.Subject).HasMaxLength(1024).IsRequired();
            entity.Property(e => e.KeyUri).HasMaxLength(1024).IsRequired();
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.HasIndex(e => e.Name).IsUnique();
            entity.HasIndex(e => e.SerialHex).IsUnique();
        });

        builder.Entity<KeyGenerationEntity>(entity =>
        {
            entity.ToTable("KeyGenerations");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Name).HasMaxLength(32).IsRequired();
            entity.Property(e => e.KeyAlgorithm).HasMaxLength(16).IsRequired();
            // CKA_ID: 16 random bytes when MiniCa chooses it; room for a module's longer identifiers.
            entity.Property(e => e.KeyId).HasMaxLength(128).IsRequired();
            entity.HasIndex(e => e.Name);
        });

        builder.Entity<BlockedKeyEntity>(entity =>
        {
            entity.ToTable("BlockedKeys");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.PublicKeySha256).HasMaxLength(64).IsRequired();
            entity.Property(e => e.Reason).HasMaxLength(32).IsRequired();
            entity.Property(e => e.Source).HasMaxLength(64).IsRequired();
            entity.Property(e => e.BlockedBy).HasMaxLength(256).IsRequired();
            entity.HasIndex(e => e.PublicKeySha256).IsUnique();
        });

        builder.Entity<CertificateRequestEntity>(entity =>
        {
            entity.ToTable("Requests");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Profile).HasMaxLength(64).IsRequired();
            entity.Property(e => e.Requester).HasMaxLength(256).IsRequired();
            entity.Property(e => e.Source).HasMaxLength(16).IsRequired();
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.Property(e => e.Subject).HasMaxLength(1024);
            entity.Property(e => e.KeyDescription).HasMaxLength(64);
            entity.HasMany(e => e.Approvals).WithOne().HasForeignKey(a => a.RequestId).OnDelete(DeleteBehavior.Cascade);
            entity.HasMany(e => e.Names).WithOne().HasForeignKey(n => n.RequestId).OnDelete(DeleteBehavior.Cascade);
            entity.HasOne(e => e.Certificate).WithOne().HasForeignKey<CertificateEntity>(c => c.RequestId).OnDelete(DeleteBehavior.Restrict);
            // The approval queue pages pending requests oldest first (also by profile); "my requests" pages one
            // requester's newest first. Counts and pages come from the index alone.
            entity.HasIndex(e => new { e.Status, e.CreatedAt });
            entity.HasIndex(e => new { e.Profile, e.Status, e.CreatedAt });
            entity.HasIndex(e => new { e.Requester, e.CreatedAt });
            entity.HasIndex(e => e.CreatedAt);
        });

        builder.Entity<ApprovalEntity>(entity =>
        {
            entity.ToTable("Approvals");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Officer).HasMaxLength(256).IsRequired();
            entity.Property(e => e.Decision).HasMaxLength(16).IsRequired();
            entity.Property(e => e.Comment).HasMaxLength(2048);
            // Separation of duties: one decision per officer per request.
            entity.HasIndex(e => new { e.RequestId, e.Officer }).IsUnique();
        });

        builder.Entity<CertificateEntity>(entity =>
        {
            entity.ToTable("Certificates");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.SerialHex).HasMaxLength(40).IsRequired();
            entity.Property(e => e.IssuerName).HasMaxLength(32).IsRequired();
            entity.Property(e => e.Subject).HasMaxLength(1024);
            entity.Property(e => e.Profile).HasMaxLength(64).IsRequired();
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.Property(e => e.FailureReason).HasMaxLength(2048);
            entity.Property(e => e.RevocationReason).HasMaxLength(32);
            entity.Property(e => e.PublicKeySha256).HasMaxLength(64);
            // Serial uniqueness is the database's job, not luck's (RFC 5280 §4.1.2.2).
            entity.HasIndex(e => e.SerialHex).IsUnique();
            // Every certificate of a key reported compromised is revoked with it (BR §4.9.1.1).
            entity.HasIndex(e => e.PublicKeySha256);
            // Status + expiry answers "issued and expiring within 30 days" from the index alone.
            entity.HasIndex(e => new { e.Status, e.NotAfter });
            entity.HasIndex(e => e.NotAfter);
            entity.HasIndex(e => new { e.Profile, e.Id });
            entity.HasIndex(e => new { e.Profile, e.Status, e.Id });
            entity.HasIndex(e => new { e.Status, e.Id });
            // A narrow index in Id order: deep pages skip through it instead of through the wide rows.
            entity.HasIndex(e => e.Id).HasDatabaseName("IX_Certificates_IdOrder");
            // The dashboard's issuance chart counts by day over the last 30 days.
            entity.HasIndex(e => e.IssuedAt);
            // CRLs: a partial covering index of revoked certificates only (issuance never writes to it), read in
            // order without touching the wide rows; the time of the entry's last change second serves delta CRLs'
            // "since" (a reason raised to keyCompromise keeps its revocation date but belongs on the next delta).
            entity.HasIndex(e => new { e.IssuerName, e.RevocationChangedAt, e.SerialHex, e.RevokedAt, e.RevocationReason, e.InvalidityDate })
                .HasDatabaseName("IX_Certificates_Revoked")
                .HasFilter("\"Status\" = 'Revoked'");
            entity.HasIndex(e => e.RequestId).IsUnique();
        });

        builder.Entity<CrlStateEntity>(entity =>
        {
            entity.ToTable("CrlStates");
            entity.HasKey(e => e.Authority);
            // An authority name (at most 32) or "name-delta".
            entity.Property(e => e.Authority).HasMaxLength(40);
            // Optimistic concurrency: two nodes reserving at once cannot both get the same number.
            entity.Property(e => e.LastNumber).IsConcurrencyToken();
        });

        builder.Entity<AuditEventEntity>(entity =>
        {
            entity.ToTable("AuditEvents");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Actor).HasMaxLength(256).IsRequired();
            entity.Property(e => e.Action).HasMaxLength(64).IsRequired();
            entity.Property(e => e.Subject).HasMaxLength(128).IsRequired();
            entity.Property(e => e.Details).HasMaxLength(8192);
            // The audit log is filtered by time and actor through indexes; its action filter is a prefix LIKE and its
            // text search a LIKE '%…%', which SQLite answers by scanning in Id order either way. Indexes on Subject and
            // Action served no query and cost every issuance four index insertions (two audit events), the Subject
            // ones on randomly placed pages (certificate:<random serial>).
            entity.HasIndex(e => e.At);
            entity.HasIndex(e => e.Actor);
        });

        builder.Entity<AuditKeyRotationEntity>(entity =>
        {
            entity.ToTable("AuditKeyRotations");
            entity.HasKey(e => e.ReplacedKeySha256);
            entity.Property(e => e.ReplacedKeySha256).HasMaxLength(64);
        });

        builder.Entity<RequestNameEntity>(entity =>
        {
            entity.ToTable("RequestNames");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Name).HasMaxLength(255).IsRequired();
            entity.Property(e => e.ReversedName).HasMaxLength(255).IsRequired();
            // Covering: a search reads request ids from the index alone, without visiting the rows.
            entity.HasIndex(e => new { e.Name, e.RequestId });
            entity.HasIndex(e => new { e.ReversedName, e.RequestId });
            entity.HasIndex(e => e.RequestId);
        });

        builder.Entity<AcmeNonceEntity>(entity =>
        {
            entity.ToTable("AcmeNonces");
            entity.HasKey(e => e.Value);
            entity.Property(e => e.Value).HasMaxLength(64);
            entity.HasIndex(e => e.Expires);
        });

        builder.Entity<AcmeAccountEntity>(entity =>
        {
            entity.ToTable("AcmeAccounts");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Thumbprint).HasMaxLength(64).IsRequired();
            entity.Property(e => e.Jwk).HasMaxLength(4096).IsRequired();
            entity.Property(e => e.Contacts).HasMaxLength(4096);
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.Property(e => e.ExternalAccountId).HasMaxLength(64);
            entity.Property(e => e.PortalUser).HasMaxLength(256);
            entity.HasIndex(e => e.Thumbprint).IsUnique();
        });

        builder.Entity<AcmeOrderEntity>(entity =>
        {
            entity.ToTable("AcmeOrders");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.Property(e => e.Identifiers).IsRequired();
            entity.Property(e => e.Profile).HasMaxLength(64).IsRequired();
            entity.Property(e => e.ErrorType).HasMaxLength(64);
            entity.Property(e => e.ErrorDetail).HasMaxLength(2048);
            entity.Property(e => e.CertificateSerial).HasMaxLength(40);
            entity.Property(e => e.Replaces).HasMaxLength(256);
            entity.HasMany(e => e.Authorizations).WithOne().HasForeignKey(a => a.OrderId).OnDelete(DeleteBehavior.Cascade);
            entity.HasIndex(e => new { e.AccountId, e.CreatedAt });
            entity.HasIndex(e => e.CertificateSerial);
        });

        builder.Entity<AcmeAuthorizationEntity>(entity =>
        {
            entity.ToTable("AcmeAuthorizations");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.IdentifierType).HasMaxLength(8).IsRequired();
            entity.Property(e => e.IdentifierValue).HasMaxLength(255).IsRequired();
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.HasMany(e => e.Challenges).WithOne().HasForeignKey(c => c.AuthorizationId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<AcmeChallengeEntity>(entity =>
        {
            entity.ToTable("AcmeChallenges");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Type).HasMaxLength(16).IsRequired();
            entity.Property(e => e.Token).HasMaxLength(64).IsRequired();
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.Property(e => e.ErrorType).HasMaxLength(64);
            entity.Property(e => e.ErrorDetail).HasMaxLength(2048);
        });

        builder.Entity<AcmeEabKeyEntity>(entity =>
        {
            entity.ToTable("AcmeEabKeys");
            entity.HasKey(e => e.KeyId);
            entity.Property(e => e.KeyId).HasMaxLength(64);
            entity.Property(e => e.PortalUser).HasMaxLength(256).IsRequired();
            entity.Property(e => e.CreatedBy).HasMaxLength(256).IsRequired();
        });

        builder.Entity<ApiTokenEntity>(entity =>
        {
            entity.ToTable("ApiTokens");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.UserId).HasMaxLength(64).IsRequired();
            entity.Property(e => e.UserName).HasMaxLength(256).IsRequired();
            entity.Property(e => e.Name).HasMaxLength(100).IsRequired();
            entity.Property(e => e.Prefix).HasMaxLength(16).IsRequired();
            entity.Property(e => e.Hash).HasMaxLength(64).IsRequired();
            entity.HasIndex(e => e.Hash).IsUnique();
            entity.HasIndex(e => e.UserId);
            entity.HasOne<MiniCaUser>().WithMany().HasForeignKey(e => e.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<CrlBlobEntity>(entity =>
        {
            entity.ToTable("CrlBlobs");
            entity.HasKey(e => e.Authority);
            entity.Property(e => e.Authority).HasMaxLength(40);
            entity.Property(e => e.Der).IsRequired();
        });

        builder.Entity<QuorumOperationEntity>(entity =>
        {
            entity.ToTable("QuorumOperations");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Kind).HasMaxLength(32).IsRequired();
            entity.Property(e => e.Target).HasMaxLength(128).IsRequired();
            entity.Property(e => e.RequestedBy).HasMaxLength(256).IsRequired();
            entity.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entity.Property(e => e.Outcome).HasMaxLength(4000);
            entity.HasIndex(e => new { e.Kind, e.Target, e.Status });
            entity.HasMany(e => e.Approvals).WithOne().HasForeignKey(a => a.OperationId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<QuorumApprovalEntity>(entity =>
        {
            entity.ToTable("QuorumApprovals");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Approver).HasMaxLength(256).IsRequired();
            entity.HasIndex(e => new { e.OperationId, e.Approver }).IsUnique();
        });
    }
}
