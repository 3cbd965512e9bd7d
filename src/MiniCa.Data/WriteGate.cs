namespace MiniCa.Data;

/// <summary>
/// Serialises this process's write transactions on SQLite. SQLite admits one writer at a time, and
/// Microsoft.Data.Sqlite answers a busy database by sleeping and retrying, so two concurrent issuances that
/// collide would stall each other; queueing them here costs nothing (the database would serialise them anyway).
/// PostgreSQL needs no gate.
/// </summary>
public sealed class WriteGate : IDisposable
{
    private readonly SemaphoreSlim? _gate;

    /// <summary>Creates a gate; <paramref name="serialise"/> is true for SQLite.</summary>
    public WriteGate(bool serialise)
    {
        _gate = serialise ? new SemaphoreSlim(1, 1) : null;
    }

    /// <summary>Waits for the turn to write; dispose the result to hand it on.</summary>
    public async ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        if (_gate is null)
        {
            return NoGate.Instance;
        }

        await _gate.WaitAsync(cancellationToken);
        return new Turn(_gate);
    }

    /// <inheritdoc />
    public void Dispose() => _gate?.Dispose();

    private sealed class Turn(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    private sealed class NoGate : IDisposable
    {
        public static readonly NoGate Instance = new();

        public void Dispose()
        {
        }
    }
}
