using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using MiniCa.Data;
using MiniCa.Data.CompiledModel;

namespace MiniCa.Unit.Tests.Data;

/// <summary>
/// The hosts run on the compiled model in src/MiniCa.Data/CompiledModel. When the model in code changes, this
/// test fails until it is regenerated: in src/MiniCa.Data, `dotnet ef dbcontext optimize -o CompiledModel -n
/// MiniCa.Data.CompiledModel`, then delete the generated MiniCaDbContextAssemblyAttributes.cs.
/// </summary>
public sealed class CompiledModelTests
{
    [Fact]
    public void CompiledModel_MatchesTheModelTheCodeBuilds()
    {
        using var built = new MiniCaDbContext(new DbContextOptionsBuilder<MiniCaDbContext>().UseSqlite("Data Source=:memory:").Options);
        using var compiled = new MiniCaDbContext(new DbContextOptionsBuilder<MiniCaDbContext>().UseSqlite("Data Source=:memory:").UseModel(MiniCaDbContextModel.Instance).Options);

        var expected = Describe(built.Model);
        var actual = Describe(compiled.Model);

        Assert.Equal(expected, actual);
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
