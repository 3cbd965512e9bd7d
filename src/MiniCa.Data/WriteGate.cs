namespace MiniCa.Data;

/// <summary>
/// One writer at a time, for the writes that read before they write (an officer's decision counting approvals, an
/// ACME state change, a revocation, the CRL's number). The stores were written against SQLite, which admits one
/// writer at a time; Microsoft.Data.Sqlite answers a busy database by sleeping and retrying, so this process's
/// writers queue here instead. PostgreSQL runs writers side by side, so there the turn is also a lock in the
/// database (a session-level advisory lock on a connection of its own), so that every process sharing the database
/// takes turns and the stores' read-then-write steps stay whole. The issuance hot path on PostgreSQL takes no turn:
/// its writes are guarded statements under the key's lock, in <see cref="Stores.PostgresGroupCommit"/>'s batches.
/// </summary>
public sealed class WriteGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Func<CancellationToken, Task<IAsyncDisposable>>? _shared;

    /// <summary>A gate for this process's writers (SQLite).</summary>
    public WriteGate()
    {
    }

    /// <summary>A gate for this process's writers and, through <paramref name="sharedTurn"/>, every process's.</summary>
    /// <param name="sharedTurn">Takes the database's lock and returns it held (released when disposed).</param>
    public WriteGate(Func<CancellationToken, Task<IAsyncDisposable>> sharedTurn)
    {
        _shared = sharedTurn;
    }

    /// <summary>Waits for the turn to write; dispose the result to hand it on.</summary>
    public async ValueTask<Turn> EnterAsync(CancellationToken cancellationToken)
    {
        // This process's writers queue here first, so that a waiting writer holds no database connection.
        await _gate.WaitAsync(cancellationToken);
        if (_shared is null)
        {
            return new Turn(_gate, null);
        }

        try
        {
            return new Turn(_gate, await _shared(cancellationToken));
        }
        catch
        {
            _gate.Release();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    /// <summary>A writer's turn.</summary>
    public sealed class Turn : IAsyncDisposable, IDisposable
    {
        private readonly SemaphoreSlim _gate;
        private readonly IAsyncDisposable? _shared;
        private int _released;

        internal Turn(SemaphoreSlim gate, IAsyncDisposable? shared)
        {
            _gate = gate;
            _shared = shared;
        }

        /// <summary>Hands the turn on.</summary>
        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            try
            {
                if (_shared is not null)
                {
                    await _shared.DisposeAsync();
                }
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>Hands the turn on (blocking while the database's lock is released, on PostgreSQL).</summary>
        public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
