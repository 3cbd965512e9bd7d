using System.Diagnostics;
using Microsoft.Data.Sqlite;
using MiniCa.Data;
using MiniCa.Data.Stores;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// The group commit's hold: a batch waits for the writes of issuances still computing (on more cores, only for
/// those the other cores cannot run), but not for an issuance that has ended nor while the process leaves its
/// cores idle, and not at all when holding is off.
/// A real SQLite file; the process's CPU clock is replaced so that "busy" and "idle" do not depend on the machine.
/// </summary>
public sealed class GroupCommitHoldTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("minica-hold-").FullName;
    private readonly WriteGate _gate = new();
    private readonly string _connectionString;
    private int _issuing;

    public GroupCommitHoldTests()
    {
        _connectionString = $"Data Source={Path.Combine(_directory, "hold.db")};Pooling=False";
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var create = connection.CreateCommand();
        create.CommandText = "CREATE TABLE Writes (Name TEXT NOT NULL)";
        create.ExecuteNonQuery();
    }

    /// <summary>A CPU clock that advances with the wall clock, as a process keeping <paramref name="cores"/> cores busy (none: idle).</summary>
    private static Func<TimeSpan> Busy(int cores = 1)
    {
        var clock = Stopwatch.StartNew();
        return () => clock.Elapsed * cores;
    }

    /// <summary>
    /// A CPU clock as the kernel reports a process keeping <paramref name="cores"/> cores busy with threads that run
    /// without stopping: each core's time is added at its scheduler tick (4 ms, 250 Hz), the cores' ticks half a
    /// tick apart. Over 2 ms it often does not move at all.
    /// </summary>
    private static Func<TimeSpan> BusyInTicks(int cores)
    {
        var tick = TimeSpan.FromMilliseconds(4);
        var clock = Stopwatch.StartNew();
        return () => Enumerable.Range(0, cores).Select(core => tick * Math.Floor((clock.Elapsed + (tick * core / cores)) / tick)).Aggregate(TimeSpan.Zero, (sum, time) => sum + time);
    }

    /// <summary>
    /// <paramref name="clock"/>, whose first read returns only after <paramref name="delay"/>, as a first call that is
    /// compiled or preempted does. Only the writer thread reads it.
    /// </summary>
    private static Func<TimeSpan> FirstReadDelayed(Func<TimeSpan> clock, TimeSpan delay)
    {
        var first = true;
        return () =>
        {
            if (first)
            {
                first = false;
                Thread.Sleep(delay);
            }

            return clock();
        };
    }

    /// <summary>A group commit on a machine of <paramref name="cores"/> cores (one, unless said).</summary>
    private SqliteGroupCommit Open(bool hold, Func<TimeSpan> cpu, int cores = 1) => new(_connectionString, _gate, () => Volatile.Read(ref _issuing), hold, Generous, cpu, cores);

    private static Task<int> Insert(SqliteGroupCommit commit, string name) =>
        commit.RunAsync(batch => batch.Execute("INSERT INTO Writes (Name) VALUES ($name)", ("$name", name)), CancellationToken.None);

    private List<string> Rows()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT Name FROM Writes ORDER BY Name";
        using var reader = select.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    /// <summary>With <paramref name="issuing"/> issuances under way (two, unless said), writes "a" for one of them and checks that it is held.</summary>
    private async Task<Task<int>> HeldWriteAsync(SqliteGroupCommit commit, int issuing = 2)
    {
        _issuing = issuing;
        var first = Insert(commit, "a");
        await Task.Delay(200);
        Assert.False(first.IsCompleted, $"the write was committed without waiting for the {issuing - 1} issuance(s) still computing");
        Assert.Empty(Rows());
        return first;
    }

    /// <summary>Writes "b" for the issuance the held write "a" waited for, and checks that both went in one batch.</summary>
    private async Task SecondWriteJoinsTheBatchAsync(SqliteGroupCommit commit, Task<int> first)
    {
        var second = Insert(commit, "b");
        await Task.WhenAll(first, second).WaitAsync(Generous);
        Assert.Equal(1, commit.Batches);
        Assert.Equal(["a", "b"], Rows());
    }

    [Fact]
    public async Task Hold_AnotherIssuanceStillComputing_WaitsForItsWriteAndCommitsBothTogether()
    {
        using var commit = Open(hold: true, Busy());
        var first = await HeldWriteAsync(commit);

        await SecondWriteJoinsTheBatchAsync(commit, first);
    }

    [Fact]
    public async Task Hold_TheOtherIssuanceEnds_CommitsWithoutIt()
    {
        using var commit = Open(hold: true, Busy());
        var first = await HeldWriteAsync(commit);
        Interlocked.Decrement(ref _issuing);
        commit.Nudge();

        await first.WaitAsync(Generous);
        Assert.Equal(["a"], Rows());
    }

    [Fact]
    public async Task Hold_OneOfTwoOthersEnds_WaitsForTheOneStillComputing()
    {
        using var commit = Open(hold: true, Busy());
        _issuing = 3;
        var first = Insert(commit, "a");
        Interlocked.Decrement(ref _issuing);
        commit.Nudge();
        await Task.Delay(200);
        Assert.False(first.IsCompleted, "the write was committed while another issuance was still computing its write");

        Interlocked.Decrement(ref _issuing);
        commit.Nudge();
        await first.WaitAsync(Generous);
        Assert.Equal(["a"], Rows());
    }

    [Theory]
    // One core, another issuance under way, but the process's core idle: it waits on something that is not this
    // process's CPU (a network HSM, say).
    [InlineData(2, 0, 1)]
    // Two cores, one other issuance computing: it has the second core to itself while the commit runs.
    [InlineData(2, 2, 2)]
    // Four cores, seven other issuances under way, but less than half of the cores busy: they wait on something else.
    [InlineData(8, 1, 4)]
    public async Task Hold_NothingToWaitFor_CommitsAtOnce(int issuing, int busyCores, int cores)
    {
        _issuing = issuing;
        using var commit = Open(hold: true, Busy(busyCores), cores);

        // Well within the hold's maximum (Generous): the batch did not wait for it.
        await Insert(commit, "a").WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, commit.Batches);
        Assert.Equal(["a"], Rows());
    }

    [Fact]
    public async Task Hold_TwoCores_TwoOthersComputing_WaitsUntilOneOfThemWrites()
    {
        using var commit = Open(hold: true, Busy(2), cores: 2);
        var first = await HeldWriteAsync(commit, issuing: 3);

        await SecondWriteJoinsTheBatchAsync(commit, first);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Hold_BusyCoresCountedAtTheirTicks_KeepsHolding(int cores)
    {
        using var commit = Open(hold: true, BusyInTicks(cores), cores);
        var first = await HeldWriteAsync(commit, issuing: cores + 1);

        await SecondWriteJoinsTheBatchAsync(commit, first);
    }

    [Fact]
    public async Task Hold_FirstCpuReadDelayed_KeepsHolding()
    {
        // The time between the hold's first reads of the wall clock and of the CPU clock is not idle time: counted
        // as such, it ended holds of busy processes (1 run in 5 of the tick-clock test under load).
        using var commit = Open(hold: true, FirstReadDelayed(Busy(2), TimeSpan.FromMilliseconds(40)), cores: 2);
        var first = await HeldWriteAsync(commit, issuing: 3);

        await SecondWriteJoinsTheBatchAsync(commit, first);
    }

    [Fact]
    public async Task Hold_Off_CommitsAtOnceWhileOthersCompute()
    {
        _issuing = 8;
        using var commit = Open(hold: false, Busy());

        await Insert(commit, "a").WaitAsync(Generous);
        await Insert(commit, "b").WaitAsync(Generous);
        Assert.Equal(2, commit.Batches);
        Assert.Equal(["a", "b"], Rows());
    }

    [Fact]
    public async Task Hold_LongerThanTheMaximum_CommitsAlone()
    {
        _issuing = 2;
        using var commit = new SqliteGroupCommit(_connectionString, _gate, () => Volatile.Read(ref _issuing), holdForCompanions: true, maxHold: TimeSpan.FromMilliseconds(50), cpuTime: Busy(), cores: 1);

        await Insert(commit, "a").WaitAsync(Generous);
        Assert.Equal(1, commit.Batches);
        Assert.Equal(["a"], Rows());
    }

    public void Dispose()
    {
        _gate.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
