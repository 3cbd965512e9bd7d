using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace MiniCa.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a host.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<MiniCaDbContext>
{
    public MiniCaDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<MiniCaDbContext>().UseSqlite("Data Source=design-time.db").Options);
}
