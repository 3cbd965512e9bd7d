using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using MiniCa.Core.Errors;
using MiniCa.Core.Telemetry;

namespace MiniCa.Data.Stores;

/// <summary>
/// Group commit for the issuance hot path on PostgreSQL. One writer thread takes whatever writes are waiting and
/// sends them as one batch of prepared statements: one round trip and one implicit transaction, committed at the
/// batch's end, before any of its writes completes. Without it every write was a round trip and a commit of its
/// own, on one of up to a hundred pooled connections, and with the server on the CA's cores the server's backends
/// were the limit (P-256: 0.65 of two cores busy in the CA). A write that the database refuses (a serial already
/// taken, a deadlock with another process) fails the whole transaction; the batch then runs again one write per
/// transaction, so that only that write is refused. A write's own guard that finds nothing to change (a blocked
/// key, a certificate no longer being signed) is an answer, not a failure: the others commit.
/// <para>
/// A write that needs a lock another session holds (a key's, while that key is revoked or blocked) does not hold up
/// its batch: it only tries the lock there, changes nothing without it, and then runs alone on a connection of its
/// own, waiting for the lock. Each batch takes a pooled connection of its own, so an outage fails the writes
/// waiting, and the next batch after it connects again.
/// </para>
/// </summary>
internal sealed class PostgresGroupCommit : IDisposable
{
    /// <summary>Bounds one transaction (and so the latency the first write in it waits for the last).</summary>
    private const int MaxBatch = 128;

    // As in SqliteGroupCommit: the writer sleeps on this monitor, and a caller wakes it directly rather than through
    // a thread-pool work item queued behind the requests' CPU work.
    private readonly Queue<Write> _queue = new();
    private readonly Func<MiniCaDbContext> _contexts;
    private readonly Thread _writer;
    private bool _closed;
    private long _batches;

    /// <summary>Starts the writer, which opens a context from <paramref name="contexts"/> for each batch.</summary>
    public PostgresGroupCommit(Func<MiniCaDbContext> contexts)
    {
        _contexts = contexts;
        _writer = new Thread(Run) { IsBackground = true, Name = "minica-postgres-group-commit" };
        _writer.Start();
    }

    /// <summary>Batches sent so far, the ones run again write by write included.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Runs <paramref name="write"/> in the next batch; completes once that batch is committed.</summary>
    public Task<T> RunAsync<T>(Write<T> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        lock (_queue)
        {
            if (_closed)
            {
                throw new CaException(CaErrorKind.StorageFailed, "The issuance database is closing; nothing was recorded.");
            }

            _queue.Enqueue(write);
            if (_queue.Count == 1)
            {
                Monitor.Pulse(_queue);
            }
        }

        return write.Task;
    }

    private void Run()
    {
        var batch = new List<Write>(MaxBatch);
        var mark = WriterTime.Start();
        while (true)
        {
            lock (_queue)
            {
                while (_queue.Count == 0 && !_closed)
                {
                    Monitor.Wait(_queue);
                }

                WriterTime.Spent(WriterState.Idle, ref mark);

                if (_queue.Count == 0)
                {
                    return;
                }

                while (batch.Count < MaxBatch && _queue.TryDequeue(out var write))
                {
                    if (write.IsCancelled)
                    {
                        write.Cancel();
                    }
                    else
                    {
                        batch.Add(write);
                    }
                }
            }

            if (batch.Count > 0)
            {
                Commit(batch);
                WriterTime.Spent(WriterState.Statements, ref mark);
            }

            batch.Clear();
        }
    }

    private void Commit(List<Write> batch)
    {
        try
        {
            Send(batch);
        }
        catch (DbException ex) when (ex.SqlState is not null && batch.Count > 1)
        {
            // The server refused a statement, and the transaction rolled back: nothing of the batch was recorded.
            // Each write runs again alone, so that only the one refused fails.
            foreach (var write in batch)
            {
                Commit([write]);
            }

            return;
        }
#pragma warning disable CA1031 // The writer serves every caller: whatever the failure, it goes back to the batch's callers, and the writer goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var write in batch)
            {
                write.Fail(ex is DbException db ? write.Refused(db) : new CaException(CaErrorKind.StorageFailed, $"The issuance database could not record the write ({ex.Message}); nothing of it was recorded.", ex));
            }

            return;
        }

        foreach (var write in batch)
        {
            if (write.RunAloneAndWait())
            {
                // Beside the writer, so that the next batches go on while it waits for its lock.
                _ = Task.Run(() => Commit([write]));
            }
            else
            {
                write.Complete();
            }
        }
    }

    /// <summary>Sends <paramref name="writes"/> as one batch (one implicit transaction) and reads every answer.</summary>
    private void Send(List<Write> writes)
    {
        Interlocked.Increment(ref _batches);
        using var db = _contexts();
        db.Database.OpenConnection();
        using var batch = db.Database.GetDbConnection().CreateBatch();
        var counts = new int[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            var before = batch.BatchCommands.Count;
            writes[i].Add(batch);
            counts[i] = batch.BatchCommands.Count - before;
        }

        // Prepared once per pooled connection (Npgsql keeps them across the pool's reuse): the server parses and
        // plans these few statements once instead of on every issuance.
        batch.Prepare();
        using var reader = batch.ExecuteReader();
        var first = true;
        for (var i = 0; i < writes.Count; i++)
        {
            for (var statement = 0; statement < counts[i]; statement++)
            {
                if (!first && !reader.NextResult())
                {
                    throw new InvalidOperationException("The database answered fewer statements than the batch sent.");
                }

                first = false;
                writes[i].Read(statement, reader);
            }
        }

        // Read to the end: the commit's outcome is known before any write completes.
        while (reader.NextResult())
        {
        }
    }

    /// <summary>Stops taking writes, lets the queued ones commit, and waits for the writer.</summary>
    public void Dispose()
    {
        lock (_queue)
        {
            _closed = true;
            Monitor.Pulse(_queue);
        }

        _writer.Join(TimeSpan.FromSeconds(30));
    }

    /// <summary>One write: its statements, how it reads their answers, and its outcome.</summary>
    internal abstract class Write
    {
        public abstract bool IsCancelled { get; }

        /// <summary>Adds the write's statements, each of which answers with rows.</summary>
        public abstract void Add(DbBatch batch);

        /// <summary>
        /// Adds a statement with positional parameters ($1, $2, ...). A null is sent as a bytea NULL (the hot path's
        /// one nullable value is the CSR), typed so that the prepared statement's parameter types never change.
        /// </summary>
        protected static void Statement(DbBatch batch, string sql, params object?[] values)
        {
            ArgumentNullException.ThrowIfNull(batch);
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            foreach (var value in values)
            {
                var parameter = command.CreateParameter();
                parameter.Value = value ?? DBNull.Value;
                if (value is null)
                {
                    parameter.DbType = DbType.Binary;
                }

                command.Parameters.Add(parameter);
            }

            batch.BatchCommands.Add(command);
        }

        /// <summary>Reads the answer of the write's <paramref name="statement"/>-th statement.</summary>
        public abstract void Read(int statement, DbDataReader reader);

        /// <summary>
        /// After its batch: whether the write changed nothing for want of a lock another session held, and must run
        /// again alone, waiting for it (it then waits when it runs).
        /// </summary>
        public virtual bool RunAloneAndWait() => false;

        /// <summary>The caller's error when the database refused the write.</summary>
        public abstract Exception Refused(DbException exception);

        /// <summary>Completes the write once its batch is committed, with its result or its own guard's refusal.</summary>
        public abstract void Complete();

        public abstract void Fail(Exception exception);

        public abstract void Cancel();
    }

    /// <summary>A write with a result of type <typeparamref name="T"/>.</summary>
    internal abstract class Write<T>(CancellationToken cancellationToken) : Write
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _completion.Task;

        public override bool IsCancelled => cancellationToken.IsCancellationRequested;

        /// <summary>The write's result from the answers read; throws the caller's error when a guard changed nothing.</summary>
        protected abstract T Result();

        public override void Complete()
        {
            T result;
            try
            {
                result = Result();
            }
            catch (CaException ex)
            {
                _completion.TrySetException(ex);
                return;
            }

            _completion.TrySetResult(result);
        }

        public override void Fail(Exception exception) => _completion.TrySetException(exception);

        public override void Cancel() => _completion.TrySetCanceled(cancellationToken);
    }
}
