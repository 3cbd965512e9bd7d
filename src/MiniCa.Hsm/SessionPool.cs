using System.Collections.Concurrent;
using MiniCa.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace MiniCa.Hsm;

/// <summary>
/// Read-only PKCS#11 sessions for concurrent signing. A session is used by one thread at a time (two threads
/// on one session crash SoftHSM); at most <c>maxSessions</c> are open, further callers wait.
/// </summary>
internal sealed class SessionPool : IDisposable
{
    private readonly ISlot _slot;
    private readonly SemaphoreSlim _permits;
    private readonly ConcurrentBag<ISession> _idle = [];
    private readonly TimeSpan _waitTimeout;
    private readonly Action<ISession> _onOpened;
    private int _open;

    internal SessionPool(ISlot slot, int maxSessions, TimeSpan waitTimeout, Action<ISession> onOpened)
    {
        _slot = slot;
        _permits = new SemaphoreSlim(maxSessions, maxSessions);
        _waitTimeout = waitTimeout;
        _onOpened = onOpened;
        MaxSessions = maxSessions;
    }

    internal int MaxSessions { get; }

    internal int OpenSessions => Volatile.Read(ref _open);

    /// <summary>Takes an idle session or opens one; the caller must give it back with Return or Discard.</summary>
    internal ISession Rent()
    {
        if (!_permits.Wait(_waitTimeout))
        {
            throw new CaException(
                CaErrorKind.HsmOperationFailed,
                $"All {MaxSessions} HSM sessions stayed busy for {_waitTimeout.TotalSeconds:0} s; raise Hsm:MaxSessions or check the HSM.");
        }

        if (_idle.TryTake(out var session))
        {
            return session;
        }

        try
        {
            session = _slot.OpenSession(SessionType.ReadOnly);
            Interlocked.Increment(ref _open);
        }
        catch
        {
            _permits.Release();
            throw;
        }

        try
        {
            _onOpened(session);
            return session;
        }
        catch
        {
            Discard(session);
            throw;
        }
    }

    internal void Return(ISession session)
    {
        _idle.Add(session);
        _permits.Release();
    }

    /// <summary>Closes a session that failed (its handle may already be invalid) and frees its place.</summary>
    internal void Discard(ISession session)
    {
        CloseQuietly(session);
        _permits.Release();
    }

    /// <summary>Closes every idle session, e.g. after a device error made them all suspect.</summary>
    internal void DiscardIdle()
    {
        while (_idle.TryTake(out var session))
        {
            CloseQuietly(session);
        }
    }

    private void CloseQuietly(ISession session)
    {
        Interlocked.Decrement(ref _open);
        try
        {
            session.CloseSession();
        }
        catch (Pkcs11Exception)
        {
            // Already invalid on the token side; nothing left to release.
        }
    }

    public void Dispose()
    {
        DiscardIdle();
        _permits.Dispose();
    }
}
