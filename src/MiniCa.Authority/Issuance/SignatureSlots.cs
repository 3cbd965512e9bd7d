namespace MiniCa.Authority.Issuance;

/// <summary>
/// Bounds how many signatures the pipeline computes at once (<c>Hsm:MaxConcurrentSignatures</c>). An issuance
/// beyond the limit waits for a slot without holding a thread, so the thread pool spends the time on other
/// requests' parsing, linting and commits instead of on signatures that contend for the token's locks. With the
/// embedded SoftHSM2 token and one slot per core, RSA-3072 issuance ran about 3 % faster beside the bare signing
/// rate (1-6 % in each of twelve paired runs; ISSUANCE-LOG.md, sixteenth session). A limit of 0 leaves only the
/// HSM's own sessions as a bound.
/// </summary>
internal sealed class SignatureSlots : IDisposable
{
    private readonly SemaphoreSlim? _slots;

    /// <summary>Creates slots for <paramref name="limit"/> signatures at once; 0 = no limit.</summary>
    public SignatureSlots(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _slots = limit > 0 ? new SemaphoreSlim(limit, limit) : null;
    }

    /// <summary>Waits for a slot; disposing the returned slot (once or more) frees it.</summary>
    public async ValueTask<Slot> EnterAsync()
    {
        if (_slots is null)
        {
            return Slot.None;
        }

        await _slots.WaitAsync();
        return new Slot(_slots);
    }

    /// <inheritdoc />
    public void Dispose() => _slots?.Dispose();

    /// <summary>A slot held; freed by the first <see cref="Dispose"/>.</summary>
    internal sealed class Slot : IDisposable
    {
        private SemaphoreSlim? _owner;

        internal Slot(SemaphoreSlim? owner)
        {
            _owner = owner;
        }

        /// <summary>The slot of an unlimited pipeline: nothing to free.</summary>
        public static Slot None { get; } = new(null);

        /// <inheritdoc />
        public void Dispose()
        {
            try
            {
                Interlocked.Exchange(ref _owner, null)?.Release();
            }
            catch (ObjectDisposedException)
            {
                // The pipeline was disposed (shut down) while this issuance signed: no one waits for the slot, and
                // the issuance must still go on to its commit.
            }
        }
    }
}
