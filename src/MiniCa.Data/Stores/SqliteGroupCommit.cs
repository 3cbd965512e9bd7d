using System.Diagnostics;
using Microsoft.Data.Sqlite;
using MiniCa.Core.Errors;
using MiniCa.Core.Telemetry;
using SQLitePCL;

namespace MiniCa.Data.Stores;

/// <summary>
/// Group commit for the issuance hot path on SQLite. Every issuance writes twice (its record before the HSM signs,
/// its certificate after), and each write must be on disk before the caller goes on (ARCHITECTURE.md §2). One
/// writer thread takes whatever writes are waiting, runs them in one transaction and commits them with a single
/// fsync (<c>synchronous=FULL</c>); only then does any of them complete. Durability is that of a commit per write,
/// but the disk's flush is paid once per batch instead of once per write, so throughput follows the CPU when many
/// requests are in flight. A write that fails is refused alone (the batch runs again with a savepoint per write);
/// a commit that fails fails every write of the batch. Nothing is visible to readers before it is durable.
/// <para>
/// The writer also holds a batch back while more issuances are still computing their next write than the other
/// cores can run (<see cref="HoldForCompanions"/>). Otherwise, when the cores are busy with requests, it commits
/// almost every write alone: each commit writes every B-tree page the write dirtied to the log again, and that CPU
/// is taken from the requests. Measured with RSA-3072: on one core 32 -> 6 pages written per certificate; on two
/// cores (<c>--suite issuance</c>, four runs without against two with) 3.14-3.30 -> 2.92-3.03 ms of CPU per
/// certificate and 0.71-0.76 -> 0.75-0.77 of the bare signing rate, while P-256 on two cores, whose batches are
/// large anyway, gave 2,319-2,606 without against 2,414-2,424 cert/s with. On more than one core a batch goes once
/// no more issuances compute than the cores beside the commit's can run. Holding until all but about one had queued
/// a write (the one-core rule) would leave a core without work at every batch's tail, and measured worse: P-256 on
/// two cores 2,300-2,900 -> 2,100-2,400 cert/s (sixth session) and 2,194-2,272 with 1.43-1.47 cores busy (ninth).
/// </para>
/// </summary>
internal sealed class SqliteGroupCommit : IDisposable
{
    /// <summary>Bounds one transaction (and so the latency the first write in it waits for the last).</summary>
    private const int MaxBatch = 256;

    /// <summary>Log frames between two checkpoints: SQLite's default for its automatic checkpoint.</summary>
    private const int CheckpointFrames = 1000;

    /// <summary>
    /// How often a held-back writer looks whether the process still keeps at least half of its cores busy. The
    /// kernel adds a running thread's CPU time to the process's at its scheduler tick (every 4 ms at 250 Hz, 10 ms at
    /// 100 Hz) or when the thread stops running, and a signature runs for milliseconds without stopping: with looks
    /// every 2 ms, a thread that never stopped often added nothing (a probe: 945 of 2,000 looks saw less than half a
    /// core while one thread spun), and 59-69 % of the held batches went early for it (RSA-3072, two cores). Over
    /// 10 ms every busy core's tick is counted. The cost: cores that really are idle are noticed after 10 ms, not 2.
    /// </summary>
    private static readonly TimeSpan CpuCheckInterval = TimeSpan.FromMilliseconds(10);

    // Writes waiting for the next batch, under its own lock. The writer thread sleeps on this monitor and a caller
    // wakes it directly: a Channel would wake it through a thread-pool work item, queued behind the CPU work of
    // every request in flight (measured: 8 ms per write, with the writer idle half the time).
    private readonly Queue<Write> _queue = new();
    private readonly SqliteConnection _connection;
    private readonly WriteGate _gate;
    private readonly Thread _writer;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Func<int> _issuing;
    private readonly bool _holdForCompanions;
    private readonly TimeSpan _maxHold;
    private readonly Func<TimeSpan> _cpuTime;
    private readonly int _cores;
    private SqliteTransaction? _transaction;
    private bool _closed;
    private volatile bool _holding;
    private long _batches;

    // The writer thread's last mark for WriterTime (a Stopwatch timestamp) and the log frames its commits wrote since
    // its last checkpoint: only the writer thread touches them.
    private long _mark;
    private long _framesSinceCheckpoint;

    // Measured by the writer (moving averages): writes arriving per second and seconds per commit. Their product is
    // how many writes arrive while one commit runs: that many issuances may still be computing when a held batch
    // goes, so that their work fills the core during the commit's fsync instead of leaving it idle.
    private double _writesPerSecond;
    private double _commitSeconds;
    private double _overlap;
    private long _lastTaken;

    /// <summary>
    /// Opens the writer's own connection to <paramref name="connectionString"/> and starts its thread.
    /// <paramref name="issuing"/> counts the issuances under way (each writes again before it ends); with
    /// <paramref name="holdForCompanions"/> (default: on) a batch waits up to <paramref name="maxHold"/> (default
    /// 50 ms) for their writes while the process keeps at least half of its <paramref name="cores"/> (default: the
    /// cores it may run on) busy, as read from <paramref name="cpuTime"/> (default: the process's CPU time).
    /// </summary>
    public SqliteGroupCommit(string connectionString, WriteGate gate, Func<int>? issuing = null, bool? holdForCompanions = null, TimeSpan? maxHold = null, Func<TimeSpan>? cpuTime = null, int? cores = null)
    {
        _gate = gate;
        _issuing = issuing ?? (() => 0);
        _holdForCompanions = holdForCompanions ?? true;
        _maxHold = maxHold ?? TimeSpan.FromMilliseconds(50);
        _cpuTime = cpuTime ?? (() => Environment.CpuUsage.TotalTime);
        _cores = Math.Max(1, cores ?? Environment.ProcessorCount);
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        using (var pragma = _connection.CreateCommand())
        {
            // As SqlitePragmas: every commit fsyncs the write-ahead log before it returns. The savepoints' statement
            // journals stay in memory: on disk, SQLite created and unlinked a temporary file for every batch. The
            // writer checkpoints the log itself, after the commit (CheckpointIfDue).
            pragma.CommandText = "PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0;";
            pragma.ExecuteNonQuery();
        }

        _writer = new Thread(Run) { IsBackground = true, Name = "minica-sqlite-group-commit" };
        _writer.Start();
    }

    /// <summary>Batches begun so far (a write completes after its batch is counted).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>
    /// Tells a held-back writer that an issuance ended, when that ends the hold. The writer is woken only then: each
    /// wake-up takes a core from a request, often mid-signature (RSA-3072 on one core: 4.2-4.7 -> 2.0 writer time
    /// slices and 225-275 -> 202-227 us of writer CPU per certificate).
    /// </summary>
    public void Nudge()
    {
        if (_holding)
        {
            lock (_queue)
            {
                if (CompanionsQueued())
                {
                    Monitor.Pulse(_queue);
                }
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> in the next batch; completes once its batch is committed and on disk.</summary>
    public Task<T> RunAsync<T>(Func<SqliteGroupCommit, T> work, CancellationToken cancellationToken)
    {
        var write = new Write<T>(work, cancellationToken);
        lock (_queue)
        {
            if (_closed)
            {
                throw new CaException(CaErrorKind.StorageFailed, "The issuance database is closing; nothing was recorded.");
            }

            _queue.Enqueue(write);
            if (_queue.Count == 1 || (_holding && CompanionsQueued()))
            {
                Monitor.Pulse(_queue);
            }
        }

        return write.Task;
    }

    /// <summary>Runs a statement of the current write; the command is prepared once and reused.</summary>
    public int Execute(string sql, params ReadOnlySpan<(string Name, object Value)> parameters) => Command(sql, parameters).ExecuteNonQuery();

    /// <summary>Runs a statement of the current write and returns the first column of its first row.</summary>
    public object? Scalar(string sql, params ReadOnlySpan<(string Name, object Value)> parameters) => Command(sql, parameters).ExecuteScalar();

    private SqliteCommand Command(string sql, ReadOnlySpan<(string Name, object Value)> parameters)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Transaction = _transaction ?? throw new InvalidOperationException("A write runs only inside its batch.");
        command.Parameters.Clear();
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    private void Run()
    {
        var batch = new List<Write>(MaxBatch);
        _mark = WriterTime.Start();
        while (true)
        {
            lock (_queue)
            {
                while (_queue.Count == 0 && !_closed)
                {
                    Monitor.Wait(_queue);
                }

                WriterTime.Spent(WriterState.Idle, ref _mark);
                if (_queue.Count == 0)
                {
                    return;
                }

                if (_holdForCompanions)
                {
                    HoldForCompanions();
                    WriterTime.Spent(WriterState.Holding, ref _mark);
                }

                while (batch.Count < MaxBatch && _queue.TryDequeue(out var write))
                {
                    batch.Add(write);
                }
            }

            var taken = Stopwatch.GetTimestamp();
            CommitBatch(batch);
            CheckpointIfDue();
            if (_holdForCompanions)
            {
                Measure(batch.Count, taken);
            }

            batch.Clear();
        }
    }

    /// <summary>
    /// After a commit: adds the log frames it wrote (SQLite's count of pages this connection wrote, read and reset)
    /// and, once <see cref="CheckpointFrames"/> have been written since the last checkpoint, checkpoints the log into
    /// the database file. SQLite's automatic checkpoint (off on this connection) would do the same inside the commit;
    /// run here, its time is counted apart (<see cref="WriterState.Checkpoint"/>): with P-256 on two cores it was
    /// 27-32 % of the writer's time. A checkpoint that finds readers on older pages copies what it can; the next
    /// one goes on from there.
    /// </summary>
    private void CheckpointIfDue()
    {
        raw.sqlite3_db_status(_connection.Handle, raw.SQLITE_DBSTATUS_CACHE_WRITE, out var written, out _, 1);
        _framesSinceCheckpoint += written;
        if (_framesSinceCheckpoint < CheckpointFrames)
        {
            return;
        }

        _framesSinceCheckpoint = 0;
        try
        {
            using var checkpoint = _connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            checkpoint.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // The log stays as it is, every page of it durable; the next commit's checkpoint tries again.
        }

        WriterTime.Spent(WriterState.Checkpoint, ref _mark);
    }

    private void Measure(int writes, long taken)
    {
        const double Weight = 0.2;
        var commit = Stopwatch.GetElapsedTime(taken).TotalSeconds;
        _commitSeconds = _commitSeconds == 0 ? commit : ((1 - Weight) * _commitSeconds) + (Weight * commit);
        var sinceLast = Stopwatch.GetElapsedTime(_lastTaken, taken).TotalSeconds;
        if (_lastTaken != 0 && sinceLast > 0)
        {
            var rate = writes / sinceLast;
            _writesPerSecond = _writesPerSecond == 0 ? rate : ((1 - Weight) * _writesPerSecond) + (Weight * rate);
        }

        _lastTaken = taken;
        lock (_queue)
        {
            _overlap = _writesPerSecond * _commitSeconds;
        }
    }

    /// <summary>
    /// Under the queue's lock: whether no more issuances under way are without a queued write than can compute
    /// during the commit on the cores beside the one the commit takes, so a held batch may go.
    /// </summary>
    private bool CompanionsQueued() => _issuing() - _queue.Count <= _overlap + (_cores - 1);

    /// <summary>
    /// Under the queue's lock: waits while more issuances under way have no write queued than can compute during
    /// the commit, for at most the maximum hold, and only as long as the process keeps at least half of its cores
    /// busy. Issuances that wait for something else (a network HSM, a lock) leave the cores idle, and the batch goes.
    /// </summary>
    private void HoldForCompanions()
    {
        var started = Stopwatch.GetTimestamp();
        // The CPU time is read before the wall clock, here as after each check, so that the CPU window always covers
        // the wall-clock interval it is compared with: read the other way round, a delay between the two reads (a
        // preemption, the first call's compilation) shortened the CPU window and ended holds of busy processes.
        var cpuAtCheck = _cpuTime();
        var checkedAt = Stopwatch.GetTimestamp();
        _holding = true;
        try
        {
            while (!_closed && _queue.Count < MaxBatch && !CompanionsQueued())
            {
                var left = _maxHold - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    return;
                }

                Monitor.Wait(_queue, left < CpuCheckInterval ? left : CpuCheckInterval);
                var interval = Stopwatch.GetElapsedTime(checkedAt);
                if (interval >= CpuCheckInterval)
                {
                    var cpu = _cpuTime();
                    if (cpu - cpuAtCheck < interval * _cores / 2)
                    {
                        return;
                    }

                    cpuAtCheck = cpu;
                    checkedAt = Stopwatch.GetTimestamp();
                }
            }
        }
        finally
        {
            _holding = false;
        }
    }

    private void CommitBatch(List<Write> batch)
    {
        Interlocked.Increment(ref _batches);
        using var turn = _gate.EnterAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        WriterTime.Spent(WriterState.Turn, ref _mark);

        // The writes run straight in the transaction: a savepoint per write made SQLite copy every page the write
        // touched into a sub-journal first (P-256, two cores: 13 % of the writer's CPU). When a write fails, the
        // whole transaction rolls back and the batch runs again with one savepoint per write, so that only the
        // failing write is refused.
        if (!TryCommit(batch, isolated: false))
        {
            TryCommit(batch, isolated: true);
        }
    }

    /// <summary>
    /// Runs <paramref name="batch"/> in one transaction and commits it. Returns false, with nothing recorded and
    /// nothing completed, when a write fails and <paramref name="isolated"/> is off; with it on, a failing write
    /// rolls back to its savepoint and fails alone.
    /// </summary>
    private bool TryCommit(List<Write> batch, bool isolated)
    {
        var written = new List<Write>(batch.Count);
        try
        {
            _transaction = _connection.BeginTransaction(deferred: false);
            foreach (var write in batch)
            {
                if (write.IsCancelled)
                {
                    write.Cancel();
                    continue;
                }

                if (!isolated)
                {
                    try
                    {
                        write.Execute(this);
                    }
#pragma warning disable CA1031 // Whatever the failure, the batch runs again with each write isolated, and the failure goes back to its caller then.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                        _transaction.Rollback();
                        return false;
                    }

                    written.Add(write);
                    continue;
                }

                // Savepoint statements through the prepared-command cache (SqliteTransaction.Save prepares anew each time).
                Execute("SAVEPOINT write");
                try
                {
                    write.Execute(this);
                    Execute("RELEASE write");
                    written.Add(write);
                }
#pragma warning disable CA1031 // The writer serves every caller: one write's failure goes back to its caller and must not end the others.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Execute("ROLLBACK TO write");
                    Execute("RELEASE write");
                    write.Fail(ex is SqliteException sqlite ? new CaException(CaErrorKind.StorageFailed, $"The issuance database refused the write ({StoreFailures.Reason(sqlite)}); nothing of it was recorded.", sqlite) : ex);
                }
            }

            WriterTime.Spent(WriterState.Statements, ref _mark);
            _transaction.Commit();
        }
        catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
        {
            var failure = new CaException(CaErrorKind.StorageFailed, $"The issuance database could not commit ({StoreFailures.Reason(ex)}); nothing of this write was recorded.", ex);
            foreach (var write in batch)
            {
                write.Fail(failure);
            }

            return true;
        }
        finally
        {
            _transaction?.Dispose();
            _transaction = null;
        }

        foreach (var write in written)
        {
            write.Complete();
        }

        WriterTime.Spent(WriterState.Commit, ref _mark);
        return true;
    }

    /// <summary>Stops taking writes, lets the queued ones commit, and closes the connection.</summary>
    public void Dispose()
    {
        lock (_queue)
        {
            _closed = true;
            Monitor.Pulse(_queue);
        }

        _writer.Join(TimeSpan.FromSeconds(30));
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _connection.Dispose();
    }

    private abstract class Write
    {
        public abstract bool IsCancelled { get; }

        public abstract void Execute(SqliteGroupCommit commit);

        public abstract void Complete();

        public abstract void Fail(Exception exception);

        public abstract void Cancel();
    }

    private sealed class Write<T>(Func<SqliteGroupCommit, T> work, CancellationToken cancellationToken) : Write
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _completion.Task;

        public override bool IsCancelled => cancellationToken.IsCancellationRequested;

        public override void Execute(SqliteGroupCommit commit) => _result = work(commit);

        public override void Complete() => _completion.TrySetResult(_result);

        public override void Fail(Exception exception) => _completion.TrySetException(exception);

        public override void Cancel() => _completion.TrySetCanceled(cancellationToken);
    }
}
