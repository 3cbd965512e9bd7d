using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MiniCa.Core.Telemetry;

/// <summary>What the issuance database's writer thread is doing.</summary>
public enum WriterState
{
    /// <summary>No write is waiting.</summary>
    Idle,

    /// <summary>Holding a batch back for the writes of the issuances still computing (SQLite).</summary>
    Holding,

    /// <summary>Waiting for its turn among the other writers of the database.</summary>
    Turn,

    /// <summary>Running a batch's statements (on PostgreSQL: sending the batch and reading the server's answers, its commit included).</summary>
    Statements,

    /// <summary>Committing a batch: the write-ahead log written and flushed to the disk (SQLite).</summary>
    Commit,

    /// <summary>Copying the write-ahead log's pages into the database file and flushing it (SQLite's checkpoint).</summary>
    Checkpoint,
}

/// <summary>
/// Where the issuance database's writer thread spends its time, summed over the process's writers, as the counter
/// <c>minica_issuance_writer_seconds</c> by state. Every issuance writes through that one thread, so its share of
/// time outside <see cref="WriterState.Idle"/> says how close the database is to limiting issuance: a writer that
/// is never idle sets the pace. The benchmark reads it per measured window.
/// </summary>
public static class WriterTime
{
    private static readonly long[] Ticks = new long[Enum.GetValues<WriterState>().Length];

    static WriterTime() => MiniCaMetrics.ObserveCounter(
        "minica_issuance_writer_seconds",
        () => Enum.GetValues<WriterState>().Select(state => new Measurement<double>(Seconds(state), new KeyValuePair<string, object?>("state", state.ToString().ToLowerInvariant()))),
        "s",
        "Time the issuance database's writer thread spent, by state: idle, holding, turn, statements, commit, checkpoint.");

    /// <summary>A writer thread's first mark (a <see cref="Stopwatch"/> timestamp); the counter is registered by then.</summary>
    public static long Start() => Stopwatch.GetTimestamp();

    /// <summary>The seconds spent in <paramref name="state"/> so far.</summary>
    public static double Seconds(WriterState state) => (double)Interlocked.Read(ref Ticks[(int)state]) / Stopwatch.Frequency;

    /// <summary>Counts the time since <paramref name="mark"/> (a <see cref="Stopwatch"/> timestamp) to <paramref name="state"/>, and moves the mark to now.</summary>
    public static void Spent(WriterState state, ref long mark)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref Ticks[(int)state], now - mark);
        mark = now;
    }
}
