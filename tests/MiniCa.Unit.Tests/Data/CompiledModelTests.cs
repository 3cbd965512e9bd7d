using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using MiniCa.Data;
using MiniCa.Data.CompiledModel;
using MiniCa.Data.Postgres;

namespace MiniCa.Unit.Tests.Data;

/// <summary>
/// The hosts run on compiled models: src/MiniCa.Data/CompiledModel for SQLite, src/MiniCa.Data.Postgres/CompiledModel
/// for PostgreSQL (the provider's type mappings are part of a compiled model). When the model in code changes, this
/// test fails until both are regenerated: in each folder, `dotnet ef dbcontext optimize -o CompiledModel -n
/// MiniCa.Data.CompiledModel` (MiniCa.Data.Postgres.CompiledModel), then delete the generated
/// MiniCaDbContextAssemblyAttributes.cs.
/// </summary>
public sealed class CompiledModelTests
{
    [Fact]
    public void CompiledModel_Sqlite_MatchesTheModelTheCodeBuilds()
    {
        using var built = new MiniCaDbContext(new DbContextOptionsBuilder<MiniCaDbContext>().UseSqlite("Data Source=:memory:").Options);
        using var compiled = new MiniCaDbContext(new DbContextOptionsBuilder<MiniCaDbContext>().UseSqlite("Data Source=:memory:").UseModel(MiniCaDbContextModel.Instance).Options);

        Assert.Equal(Describe(built.Model), Describe(compiled.Model));
    }

    [Fact]
    public void CompiledModel_Postgres_MatchesTheModelTheCodeBuilds()
    {
        // No server: building a model opens no connection.
        const string connection = "Host=localhost;Database=model";
        using var built = new MiniCaDbContext(new DbContextOptionsBuilder<MiniCaDbContext>().UseNpgsql(connection).Options);
        var options = new DbContextOptionsBuilder<MiniCaDbContext>();
        PostgresDatabase.Use(options, connection);
        using var compiled = new MiniCaDbContext(options.Options);

        Assert.Same(MiniCa.Data.Postgres.CompiledModel.MiniCaDbContextModel.Instance, options.Options.FindExtension<CoreOptionsExtension>()?.Model);
        Assert.Equal(Describe(built.Model), Describe(compiled.Model));
    }

    private static List<string> Describe(IModel model)
    {
        var lines = new List<string>();
        foreach (var entity in model.GetEntityTypes().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var table = entity.GetTableName();
            lines.Add($"{entity.Name} -> {table}");
            var store = StoreObjectIdentifier.Table(table!, entity.GetSchema());
            foreach (var property in entity.GetProperties().OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                lines.Add($"  {property.Name}: {property.GetColumnName(store)} {property.ClrType.Name} null={property.IsNullable} max={property.GetMaxLength()} " +
                          $"store={property.GetColumnType(store)} converter={property.GetValueConverter()?.GetType().Name} token={property.IsConcurrencyToken}");
            }

            foreach (var key in entity.GetKeys())
            {
                lines.Add($"  key {string.Join(",", key.Properties.Select(p => p.Name))} primary={key.IsPrimaryKey()}");
            }

            foreach (var index in entity.GetIndexes().OrderBy(i => i.GetDatabaseName(), StringComparer.Ordinal))
            {
                lines.Add($"  index {index.GetDatabaseName()} ({string.Join(",", index.Properties.Select(p => p.Name))}) unique={index.IsUnique} filter={index.GetFilter()}");
            }

            foreach (var foreignKey in entity.GetForeignKeys())
            {
                lines.Add($"  fk ({string.Join(",", foreignKey.Properties.Select(p => p.Name))}) -> {foreignKey.PrincipalEntityType.Name} delete={foreignKey.DeleteBehavior}");
            }
        }

        return lines;
    }
}
