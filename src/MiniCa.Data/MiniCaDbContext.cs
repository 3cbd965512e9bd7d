using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using MiniCa.Data.Entities;

namespace MiniCa.Data;

/// <summary>The issuance database.</summary>
public sealed class MiniCaDbContext(DbContextOptions<MiniCaDbContext> options) : DbContext(options)
{
    /// <summary>CA certificates.</summary>
    public DbSet<AuthorityEntity> Authorities => Set<AuthorityEntity>();

    /// <summary>Certificate requests.</summary>
    public DbSet<CertificateRequestEntity> Requests => Set<CertificateRequestEntity>();

    /// <summary>Officers' decisions.</summary>
    public DbSet<ApprovalEntity> Approvals => Set<ApprovalEntity>();

    /// <summary>Subscriber certificates.</summary>
    public DbSet<CertificateEntity> Certificates => Set<CertificateEntity>();

    /// <summary>CRL numbers and the latest CRL of each authority.</summary>
    public DbSet<CrlStateEntity> CrlStates => Set<CrlStateEntity>();

    /// <summary>The audit log.</summary>
    public DbSet<AuditEventEntity> AuditEvents => Set<AuditEventEntity>();

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
    }

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<AuthorityEntity>(entity =>
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

        modelBuilder.Entity<CertificateRequestEntity>(entity =>
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
            entity.HasOne(e => e.Certificate).WithOne().HasForeignKey<CertificateEntity>(c => c.RequestId).OnDelete(DeleteBehavior.Restrict);
            entity.HasIndex(e => e.Status);
            entity.HasIndex(e => e.Requester);
            entity.HasIndex(e => e.CreatedAt);
        });

        modelBuilder.Entity<ApprovalEntity>(entity =>
        {
            entity.ToTable("Approvals");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Officer).HasMaxLength(256).IsRequired();
            entity.Property(e => e.Decision).HasMaxLength(16).IsRequired();
            entity.Property(e => e.Comment).HasMaxLength(2048);
            // Separation of duties: one decision per officer per request.
            entity.HasIndex(e => new { e.RequestId, e.Officer }).IsUnique();
        });

        modelBuilder.Entity<CertificateEntity>(entity =>
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
            // Serial uniqueness is the database's job, not luck's (RFC 5280 §4.1.2.2).
            entity.HasIndex(e => e.SerialHex).IsUnique();
            entity.HasIndex(e => e.Status);
            entity.HasIndex(e => e.NotAfter);
            entity.HasIndex(e => e.RequestId).IsUnique();
        });

        modelBuilder.Entity<CrlStateEntity>(entity =>
        {
            entity.ToTable("CrlStates");
            entity.HasKey(e => e.Authority);
            // An authority name (at most 32) or "name-delta".
            entity.Property(e => e.Authority).HasMaxLength(40);
            // Optimistic concurrency: two nodes reserving at once cannot both get the same number.
            entity.Property(e => e.LastNumber).IsConcurrencyToken();
        });

        modelBuilder.Entity<AuditEventEntity>(entity =>
        {
            entity.ToTable("AuditEvents");
            entity.HasKey(e => e.Id);
            entity.Property(e => e.Actor).HasMaxLength(256).IsRequired();
            entity.Property(e => e.Action).HasMaxLength(64).IsRequired();
            entity.Property(e => e.Subject).HasMaxLength(128).IsRequired();
            entity.Property(e => e.Details).HasMaxLength(8192);
            entity.HasIndex(e => e.At);
            entity.HasIndex(e => e.Subject);
        });
    }
}
