namespace MiniCa.Web.Tests;

/// <summary>What the host writes to its log on a normal start: an operator reads every warning as a problem.</summary>
[Collection(PortalCollection.Name)]
public sealed class HostLogTests(PortalFixture fixture)
{
    [Fact]
    public void Startup_LogsNoWarningOrError()
    {
        Assert.True(fixture.StartupLog.Count == 0, "the start logged:\n" + string.Join("\n", fixture.StartupLog));
    }

    [Fact]
    public void EntityFramework_WarnsOfNoQuery()
    {
        // EF Core warns when a query's shape is suspect (a row limit without an order, a cartesian explosion).
        // It sees what the host logged before it ran: the start at least, and the queries of every earlier test.
        var warnings = fixture.Log.Entries.Where(e => e.Category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 0, "EF Core logged:\n" + string.Join("\n", warnings));
    }
}
