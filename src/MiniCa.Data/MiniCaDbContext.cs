using Microsoft.EntityFrameworkCore;
using MiniCa.Data.Entities;

namespace MiniCa.Data;

/// <summary>The issuance database.</summary>
public sealed class MiniCaDbContext(DbContextOptions<MiniCaDbContext> options) : DbContext(options)
{
    /// <summary>CA certificates.</summary>
    public DbSet<AuthorityEntity> Authorities => Set<AuthorityEntity>();

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
    }
}
