using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace MiniCa.Data.Postgres;

/// <summary>The issuance database on PostgreSQL (<c>Database:Provider</c> <c>Postgres</c>).</summary>
public static class PostgresDatabase
{
    /// <summary>This assembly, which holds the PostgreSQL migrations.</summary>
    public static string MigrationsAssembly { get; } = typeof(PostgresDatabase).Assembly.GetName().Name!;

    /// <summary>What is wrong with <paramref name="connectionString"/> for Npgsql, or <see langword="null"/>.</summary>
    public static string? CheckConnectionString(string connectionString)
    {
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (ArgumentException ex)
        {
            return $"not an Npgsql connection string ({ex.Message})";
        }
    }

    /// <summary>Configures <paramref name="builder"/> for PostgreSQL with this assembly's migrations.</summary>
    /// <param name="builder">The context's options.</param>
    /// <param name="connectionString">Npgsql's connection string, without a password.</param>
    /// <param name="password">The password, from its configured source, or <see langword="null"/>.</param>
    public static DbContextOptionsBuilder Use(DbContextOptionsBuilder builder, string connectionString, string? password = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (password is not null)
        {
            connection.Password = password;
        }

        return builder.UseNpgsql(connection.ConnectionString, npgsql => npgsql.MigrationsAssembly(MigrationsAssembly));
    }
}

/// <summary>Lets <c>dotnet ef migrations add NAME</c> (run in this folder) build the PostgreSQL model without a server.</summary>
internal sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<MiniCaDbContext>
{
    public MiniCaDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<MiniCaDbContext>();
        PostgresDatabase.Use(builder, "Host=localhost;Database=minica-design-time");
        return new MiniCaDbContext(builder.Options);
    }
}
