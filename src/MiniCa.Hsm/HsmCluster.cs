using System.Collections.Concurrent;
using System.Diagnostics;
using MiniCa.Core.Errors;
using MiniCa.Core.Signing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Net.Pkcs11Interop.Common;

namespace MiniCa.Hsm;

/// <summary>How the cluster treats its members.</summary>
public sealed record HsmClusterSettings
{
    /// <summary>
    /// How long one operation may take on a member before it is taken for dead and the operation moves on
    /// (only with two or more members: with one, there is nowhere else to go).
    /// </summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often down members are probed for readmission and up members checked.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether new CA keys are made copyable (extractable only under a trusted wrapping key).</summary>
    public bool CopyableKeys { get; init; }
}

/// <summary>
/// Several PKCS#11 tokens holding the same logical keys. Operations go to a healthy member (round robin, so the
/// load is spread); a member that fails with a device or session error (or does not answer within the timeout)
/// is marked down and the operation is retried on the next member; down members are probed in the background
/// and readmitted once they answer again and hold the same keys (checked by public key).
/// </summary>
public sealed class HsmCluster : IDisposable
{
    private readonly HsmClusterMember[] _members;
    private readonly ConcurrentDictionary<string, byte[]> _referenceKeys = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly Timer _probe;
    private int _next = -1;
    private int _probing;
    private int _disposed;

    /// <summary>Connects every member (a member that cannot be reached starts down) and starts the probe.</summary>
    public HsmCluster(IReadOnlyList<HsmMemberSettings> members, HsmClusterSettings settings, ILogger<HsmCluster>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(settings);
        if (members.Count == 0)
        {
            throw new ArgumentException("An HSM cluster needs at least one member.", nameof(members));
        }

        Settings = settings;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _members = members.Select(m => new HsmClusterMember(this, m)).ToArray();
        var errors = new List<CaException>();
        foreach (var member in _members)
        {
            if (member.TryConnect(_logger) is { } error)
            {
                errors.Add(error);
            }
        }

        // One member: its error is the CA's error. Several: the CA starts as long as one member answers.
        if (errors.Count == _members.Length)
        {
            foreach (var member in _members)
            {
                member.Disconnect();
            }

            throw errors.Count == 1
                ? errors[0]
                : new CaException(errors[0].Kind, "No HSM member could be reached: " + string.Join(" ", errors.Select(e => e.Message)), errors[0]);
        }

        _probe = new Timer(_ => Probe(), null, settings.ProbeInterval, settings.ProbeInterval);
    }

    /// <summary>The cluster's settings.</summary>
    public HsmClusterSettings Settings { get; }

    /// <summary>The members in configuration order.</summary>
    public IReadOnlyList<HsmClusterMember> Members => _members;

    /// <summary>Operations the cluster ran (on whichever member).</summary>
    public long Operations => _members.Sum(m => m.Operations);

    /// <summary>The member with <paramref name="name"/>.</summary>
    /// <exception cref="CaException">No member has that name.</exception>
    public HsmClusterMember this[string name] => _members.FirstOrDefault(m => m.Name == name)
        ?? throw new CaException(CaErrorKind.NotFound, $"No HSM member is named '{name}'; configured: {string.Join(", ", _members.Select(m => m.Name))}.");

    /// <summary>
    /// The first member (in configuration order) that is up: where new keys are generated and objects listed.
    /// </summary>
    /// <exception cref="CaException">No member is up.</exception>
    public HsmClusterMember Primary => _members.FirstOrDefault(m => m.State == HsmMemberState.Up)
        ?? TryReadmitAny()
        ?? throw Unavailable("reach a token", null);

    /// <summary>
    /// Runs <paramref name="operation"/> on a healthy member that holds <paramref name="keyLabel"/> (any member
    /// when null), moving on to the next member when one fails with a device or session error or times out.
    /// </summary>
    /// <exception cref="CaException">No member could run it (each member's reason is in the message).</exception>
    public T Execute<T>(string? keyLabel, string action, Func<HsmClusterMember, T> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var count = _members.Length;
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)count);
        var moved = false;
        for (var i = 0; i < count; i++)
        {
            var member = _members[(start + i) % count];
            if (member.State != HsmMemberState.Up || (keyLabel is not null && !member.MayHold(keyLabel)))
            {
                continue;
            }

            if (TryRun(member, keyLabel, action, operation, out var result))
            {
                if (moved)
                {
                    member.CountFailover();
                }

                return result;
            }

            // A member that failed (not one that merely lacks the key) makes the next success a failover.
            moved |= member.State == HsmMemberState.Down;
        }

        // Nothing up answered: a member may have come back since the last probe (or, alone, may need a reconnect).
        foreach (var member in _members)
        {
            if (member.State == HsmMemberState.Down && member.TryReadmit(_logger) && (keyLabel is null || member.MayHold(keyLabel))
                && TryRun(member, keyLabel, action, operation, out var result))
            {
                return result;
            }
        }

        throw Unavailable(action, keyLabel);
    }

    private bool TryRun<T>(HsmClusterMember member, string? keyLabel, string action, Func<HsmClusterMember, T> operation, out T result)
    {
        var generation = member.Generation;
        try
        {
            result = _members.Length == 1 ? member.Run(operation) : member.RunWithTimeout(operation, Settings.OperationTimeout, action);
            return true;
        }
        catch (Exception ex) when (IsMemberFailure(ex))
        {
            member.MarkDown(ex, _logger, generation);
        }
        catch (CaException ex) when (ex.Kind == CaErrorKind.HsmKeyNotFound && keyLabel is not null)
        {
            member.MarkKeyAbsent(keyLabel, ex.Message);
        }

        result = default!;
        return false;
    }

    /// <summary>
    /// Whether <paramref name="ex"/> says the member itself failed (so another member should be tried): a device
    /// or session failure, a token gone, a module that no longer answers or stopped answering in time.
    /// </summary>
    public static bool IsMemberFailure(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        for (var current = ex; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case Pkcs11Exception p11:
                    return Pkcs11Errors.IsMemberFailure(p11.RV);
                case HsmTimeoutException or HsmMemberDownException or UnmanagedException:
                    return true;
                case ObjectDisposedException:
                    // The member's connection was replaced while this operation ran.
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The public key (SubjectPublicKeyInfo DER) every member must hold for <paramref name="label"/>: the first
    /// one seen. A member whose key differs is not used for it.
    /// </summary>
    internal bool CheckReference(string label, byte[] spki) =>
        _referenceKeys.GetOrAdd(label, spki).AsSpan().SequenceEqual(spki);

    /// <summary>
    /// Fixes the public key (SubjectPublicKeyInfo DER) the key <paramref name="keyNameOrUri"/> (a label or an RFC
    /// 7512 URI naming the object) must have on every member, e.g. from the recorded CA certificate.
    /// </summary>
    public void AnchorKey(string keyNameOrUri, byte[] spki)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyNameOrUri);
        ArgumentNullException.ThrowIfNull(spki);
        SetReference(Pkcs11KeyStore.LogicalName(keyNameOrUri), spki);
    }

    /// <summary>Sets the reference public key of <paramref name="label"/> (after key generation).</summary>
    internal void SetReference(string label, byte[] spki) => _referenceKeys[label] = spki;

    internal IEnumerable<string> ReferenceLabels() => _referenceKeys.Keys;

    /// <summary>The reference public key of <paramref name="label"/>, when one is known.</summary>
    public byte[]? ReferenceKey(string label) => _referenceKeys.TryGetValue(label, out var spki) ? spki : null;

    /// <summary>Probes every member now (the background probe does this every interval).</summary>
    public void Probe()
    {
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _probing, 1) != 0)
        {
            return;
        }

        try
        {
            foreach (var member in _members)
            {
                var generation = member.Generation;
                try
                {
                    if (member.State == HsmMemberState.Down)
                    {
                        member.TryReadmit(_logger, force: true);
                    }
                    else
                    {
                        member.RunWithTimeout(m => m.Connection.Execute("answer a health probe", s => s.GetSessionInfo()), Settings.OperationTimeout, "answer a health probe", count: false);
                        // Keys copied here by another process (`minica hsm add-member`) are taken into use.
                        member.RecheckAbsentKeys();
                    }
                }
                catch (Exception ex) when (IsMemberFailure(ex))
                {
                    member.MarkDown(ex, _logger, generation);
                }
                catch (CaException ex)
                {
                    _logger.LogWarning("HSM member {Member}: health probe failed: {Reason}", member.Name, ex.Message);
                }
#pragma warning disable CA1031 // A timer callback must never end the process.
                catch (Exception ex)
                {
                    _logger.LogError(ex, "HSM member {Member}: health probe failed", member.Name);
                }
#pragma warning restore CA1031
            }
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }

    /// <summary>The state and counters of every member.</summary>
    public IReadOnlyList<HsmClusterMemberStatus> GetStatus() => _members.Select(m => m.GetStatus()).ToList();

    private HsmClusterMember? TryReadmitAny() => _members.FirstOrDefault(m => m.State == HsmMemberState.Down && m.TryReadmit(_logger));

    private CaException Unavailable(string action, string? keyLabel)
    {
        if (keyLabel is not null && _members.All(m => m.State == HsmMemberState.Up && !m.MayHold(keyLabel)))
        {
            // Every member answered and none holds it: the key does not exist (rather than the cluster failing).
            return new CaException(
                CaErrorKind.HsmKeyNotFound,
                $"Key '{keyLabel}' is on no HSM member ({string.Join(", ", _members.Select(m => m.Name))}).");
        }

        var reasons = string.Join("; ", _members.Select(m => m.State == HsmMemberState.Up
            ? $"{m.Name}: up but {(keyLabel is null ? "failed" : $"without a usable key '{keyLabel}'")}"
            : $"{m.Name}: {m.State.ToString().ToLowerInvariant()} ({m.LastError ?? "no reason recorded"})"));
        return new CaException(CaErrorKind.HsmOperationFailed, $"No HSM member could {action}: {reasons}.");
    }

    /// <summary>Stops the probe and closes every member's sessions.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _probe.Dispose();
        foreach (var member in _members)
        {
            member.Disconnect();
        }
    }
}

/// <summary>Whether a member takes operations.</summary>
public enum HsmMemberState
{
    /// <summary>Connected and answering.</summary>
    Up,

    /// <summary>Failed; probed in the background and readmitted when it answers again.</summary>
    Down,
}

/// <summary>A PKCS#11 call that did not return within the cluster's operation timeout.</summary>
public sealed class HsmTimeoutException(string message) : Exception(message);

/// <summary>An operation reached a member after it was marked down and disconnected.</summary>
public sealed class HsmMemberDownException(string message) : Exception(message);

/// <summary>One member of an <see cref="HsmCluster"/>: its connection (replaced on readmission), state and counters.</summary>
public sealed class HsmClusterMember : IDisposable
{
    private readonly HsmCluster _cluster;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, string> _absentKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IKeySigner> _checkedSigners = new(StringComparer.Ordinal);
    private HsmMember? _connection;
    private MemberExecutor? _executor;
    private Task<HsmMember>? _pendingConnect;
    private Pkcs11KeyStore? _keys;
    private long _operations;
    private long _failures;
    private long _failovers;
    private long _readmissions;
    private long _lastAttempt;
    private bool _pinRefused;
    private long _generation;
    private int _connecting;

    internal HsmClusterMember(HsmCluster cluster, HsmMemberSettings settings)
    {
        _cluster = cluster;
        Settings = settings;
        State = HsmMemberState.Down;
        StateSince = DateTimeOffset.UtcNow;
    }

    /// <summary>The member's settings.</summary>
    public HsmMemberSettings Settings { get; }

    /// <summary>The member's configured name.</summary>
    public string Name => Settings.Name;

    /// <summary>Up or down.</summary>
    public HsmMemberState State { get; private set; }

    /// <summary>When the state last changed.</summary>
    public DateTimeOffset StateSince { get; private set; }

    /// <summary>Why the member last failed.</summary>
    public string? LastError { get; private set; }

    /// <summary>Operations this member completed (health probes not counted).</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Times the member was marked down.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Operations this member took over after another member failed them.</summary>
    public long Failovers => Interlocked.Read(ref _failovers);

    /// <summary>Times the member was readmitted after being down.</summary>
    public long Readmissions => Interlocked.Read(ref _readmissions);

    /// <summary>The live connection.</summary>
    /// <exception cref="CaException">The member is down.</exception>
    public HsmMember Connection => _connection ?? throw Down();

    /// <summary>The live connection's key store.</summary>
    public Pkcs11KeyStore Keys => _keys ?? throw Down();

    private CaException Down()
    {
        var message = $"HSM member '{Name}' is down ({LastError ?? "not connected"}).";
        return new CaException(CaErrorKind.HsmOperationFailed, message, new HsmMemberDownException(message));
    }

    /// <summary>The signer of <paramref name="label"/> on this member, checked against the cluster's public key.</summary>
    /// <exception cref="CaException">The member lacks the key or holds a different one.</exception>
    public IKeySigner GetSigner(string label)
    {
        if (_checkedSigners.TryGetValue(label, out var checkedSigner))
        {
            return checkedSigner;
        }

        var signer = Keys.GetSigner(label);
        if (!_cluster.CheckReference(label, signer.PublicKeyInfo.GetDerEncoded()))
        {
            throw new CaException(
                CaErrorKind.HsmKeyNotFound,
                $"HSM member '{Name}' holds a key '{label}' whose public key differs from the cluster's; it is not used until `minica hsm sync` repairs it.");
        }

        _checkedSigners[label] = signer;
        return signer;
    }

    /// <summary>Whether this member may hold <paramref name="label"/> (not known to lack it).</summary>
    internal bool MayHold(string label) => !_absentKeys.ContainsKey(label);

    /// <summary>Which connection the member is on (it grows with every readmission).</summary>
    internal long Generation => Interlocked.Read(ref _generation);

    /// <summary>Forgets that this member lacked <paramref name="label"/> (it was just generated or copied here).</summary>
    public void ClearKeyAbsent(string label) => _absentKeys.TryRemove(label, out _);

    /// <summary>Records that this member lacks <paramref name="label"/> (it is not used for that key until keys are re-read).</summary>
    public void MarkKeyAbsent(string label, string reason) => _absentKeys[label] = reason;

    /// <summary>Forgets what is known about this member's keys (after keys were copied or destroyed).</summary>
    public void ForgetKeys()
    {
        _absentKeys.Clear();
        _checkedSigners.Clear();
        _keys = _connection is null ? null : new Pkcs11KeyStore(_connection, _cluster.Settings.CopyableKeys);
    }

    /// <summary>Looks again for keys this member was known to lack; found and matching ones are used again.</summary>
    internal void RecheckAbsentKeys()
    {
        foreach (var label in _absentKeys.Keys.ToList())
        {
            try
            {
                if (Keys.KeyExists(label))
                {
                    _absentKeys.TryRemove(label, out _);
                    GetSigner(label);
                }
            }
            catch (CaException ex) when (ex.Kind == CaErrorKind.HsmKeyNotFound)
            {
                MarkKeyAbsent(label, ex.Message);
            }
        }
    }

    internal void CountFailover() => Interlocked.Increment(ref _failovers);

    internal T Run<T>(Func<HsmClusterMember, T> operation)
    {
        var result = operation(this);
        Interlocked.Increment(ref _operations);
        return result;
    }

    internal T RunWithTimeout<T>(Func<HsmClusterMember, T> operation, TimeSpan timeout, string action, bool count = true)
    {
        var executor = _executor ?? throw Down();
        var result = executor.Run(() => operation(this), timeout, () => $"HSM member '{Name}' did not {action} within {timeout.TotalSeconds:0.#} s.");
        if (count)
        {
            Interlocked.Increment(ref _operations);
        }

        return result;
    }

    /// <summary>
    /// Marks the member down because of <paramref name="reason"/>, unless the connection the failing call used
    /// (<paramref name="generation"/>) has been replaced since: a late failure of a call into an old connection
    /// must not take down the member that was readmitted meanwhile.
    /// </summary>
    internal void MarkDown(Exception reason, ILogger logger, long? generation = null)
    {
        lock (_gate)
        {
            if (State == HsmMemberState.Down || (generation is { } used && used != Interlocked.Read(ref _generation)))
            {
                return;
            }

            State = HsmMemberState.Down;
            StateSince = DateTimeOffset.UtcNow;
            LastError = Describe(reason);
            Interlocked.Increment(ref _failures);
        }

        logger.LogWarning("HSM member {Member} marked down: {Reason}", Name, LastError);
    }

    /// <summary>Connects at start; a failure leaves the member down with its reason, which is returned.</summary>
    internal CaException? TryConnect(ILogger logger)
    {
        try
        {
            var connection = ConnectWithin(checkKeys: false);
            lock (_gate)
            {
                Attach(connection);
                State = HsmMemberState.Up;
                StateSince = DateTimeOffset.UtcNow;
            }

            return null;
        }
        catch (CaException ex)
        {
            Refuse(ex);
            logger.LogWarning("HSM member {Member} is down at start: {Reason}", Name, ex.Message);
            return ex;
        }
    }

    /// <summary>
    /// Records why the member could not connect. A refused PIN is not retried by the probe: repeating a wrong
    /// PIN would lock it on a real HSM. The operator fixes the PIN source and restarts.
    /// </summary>
    private void Refuse(CaException ex)
    {
        LastError = ex.Message;
        _pinRefused = ex.Kind == CaErrorKind.HsmPinIncorrect;
    }

    /// <summary>
    /// Reconnects a down member (a fresh module copy where the member has one, a fresh token lookup, a fresh login)
    /// and readmits it when its keys match the cluster's. One attempt at a time, spaced unless
    /// <paramref name="force"/>, bounded by the operation timeout (a module that hangs is not waited for).
    /// </summary>
    internal bool TryReadmit(ILogger logger, bool force = false)
    {
        var now = Stopwatch.GetTimestamp();
        if (State == HsmMemberState.Up)
        {
            return true;
        }

        if (_pinRefused || (!force && Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastAttempt), now) < TimeSpan.FromMilliseconds(250))
            || Interlocked.Exchange(ref _connecting, 1) != 0)
        {
            return false;
        }

        try
        {
            Interlocked.Exchange(ref _lastAttempt, now);
            lock (_gate)
            {
                DetachLocked();
            }

            HsmMember connection;
            try
            {
                connection = ConnectWithin(checkKeys: true);
            }
            catch (CaException ex)
            {
                Refuse(ex);
                return false;
            }

            lock (_gate)
            {
                Attach(connection);
                CheckKeys();
                State = HsmMemberState.Up;
                StateSince = DateTimeOffset.UtcNow;
                Interlocked.Increment(ref _readmissions);
            }
        }
        finally
        {
            Volatile.Write(ref _connecting, 0);
        }

        logger.LogInformation("HSM member {Member} readmitted", Name);
        return true;
    }

    /// <summary>
    /// Connects (and, when asked, reads every known key once, so a module that answers the login but not the key
    /// lookup is caught here) within three operation timeouts; a connection that arrives later is closed.
    /// </summary>
    private HsmMember ConnectWithin(bool checkKeys)
    {
        if (_pendingConnect is { IsCompleted: false })
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, $"HSM member '{Name}' has not answered an earlier connection attempt yet.");
        }

        var timeout = _cluster.Settings.OperationTimeout * 3;
        var completion = new TaskCompletionSource<HsmMember>(TaskCreationOptions.RunContinuationsAsynchronously);
        var connector = new Thread(() =>
        {
            try
            {
                var connection = HsmMember.Connect(Settings);
                try
                {
                    if (checkKeys)
                    {
                        var keys = new Pkcs11KeyStore(connection);
                        foreach (var label in _cluster.ReferenceLabels().ToList())
                        {
                            _ = keys.KeyExists(label);
                        }
                    }
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }

                if (!completion.TrySetResult(connection))
                {
                    connection.Dispose();
                }
            }
            catch (Exception ex)
            {
                completion.TrySetException(ex);
            }
        })
        { IsBackground = true, Name = $"hsm-{Name}-connect" };
        connector.Start();
        _pendingConnect = completion.Task;
        if (!MemberExecutor.WaitQuietly(completion.Task, timeout))
        {
            // Whatever arrives later is closed, not used.
            _ = completion.Task.ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }

                    _ = t.Exception;
                },
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
            throw new CaException(CaErrorKind.HsmOperationFailed, $"HSM member '{Name}' did not answer a connection attempt within {timeout.TotalSeconds:0.#} s.");
        }

        try
        {
            return completion.Task.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not CaException)
        {
            throw new CaException(CaErrorKind.HsmOperationFailed, $"HSM member '{Name}' could not be connected: {ex.Message}", ex);
        }
    }

    /// <summary>Every key the cluster knows must be absent here or match (a differing key keeps the member out of that key).</summary>
    private void CheckKeys()
    {
        foreach (var label in _cluster.ReferenceLabels().ToList())
        {
            try
            {
                GetSigner(label);
            }
            catch (CaException ex) when (ex.Kind == CaErrorKind.HsmKeyNotFound)
            {
                MarkKeyAbsent(label, ex.Message);
            }
        }
    }

    private void Attach(HsmMember connection)
    {
        Interlocked.Increment(ref _generation);
        _connection = connection;
        _executor = new MemberExecutor(Name, Math.Max(1, Settings.MaxSessions));
        _keys = new Pkcs11KeyStore(connection, _cluster.Settings.CopyableKeys);
        _absentKeys.Clear();
        _checkedSigners.Clear();
    }

    /// <summary>Closes the member's connection and stops its threads (the cluster does this when it is disposed).</summary>
    public void Dispose() => Disconnect();

    internal void Disconnect()
    {
        HsmMember? old;
        lock (_gate)
        {
            old = _connection;
            _connection = null;
            _keys = null;
            _executor?.Dispose();
            _executor = null;
        }

        try
        {
            old?.Dispose();
        }
        catch (Exception ex) when (ex is Pkcs11Exception or UnmanagedException or CaException)
        {
            // Shutting down: the member is gone either way.
        }
    }

    private void DetachLocked()
    {
        var old = _connection;
        _connection = null;
        _keys = null;
        _executor?.Dispose();
        _executor = null;
        if (old is not null)
        {
            // Closing sessions of a module that hangs would hang too: close on a thread of its own, never waited for.
            var closer = new Thread(() =>
            {
                try
                {
                    // Waits for calls still inside the old connection (a frozen module's) to come back first.
                    old.Dispose(Timeout.InfiniteTimeSpan);
                }
#pragma warning disable CA1031 // A thread of its own must not end the process; the member is gone either way.
                catch (Exception)
                {
                }
#pragma warning restore CA1031
            })
            { IsBackground = true, Name = $"hsm-{Name}-close" };
            closer.Start();
        }
    }

    internal HsmClusterMemberStatus GetStatus() => new()
    {
        Name = Name,
        State = State,
        StateSince = StateSince,
        LastError = LastError,
        TokenLabel = _connection?.TokenLabel ?? Settings.TokenLabel ?? string.Empty,
        TokenSerial = _connection?.TokenSerial ?? Settings.TokenSerial ?? string.Empty,
        ModulePath = Settings.ModulePath,
        Operations = Operations,
        Failures = Failures,
        Failovers = Failovers,
        Readmissions = Readmissions,
        OpenSessions = _connection?.OpenSessions ?? 0,
        AbsentKeys = _absentKeys.Keys.Order(StringComparer.Ordinal).ToList(),
    };

    private static string Describe(Exception ex) => ex switch
    {
        CaException or HsmTimeoutException => ex.Message,
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };
}

/// <summary>What status pages show about one cluster member.</summary>
public sealed record HsmClusterMemberStatus
{
    /// <summary>The configured name.</summary>
    public required string Name { get; init; }
    /// <summary>Up or down.</summary>
    public required HsmMemberState State { get; init; }
    /// <summary>Since when.</summary>
    public required DateTimeOffset StateSince { get; init; }
    /// <summary>The last failure.</summary>
    public string? LastError { get; init; }
    /// <summary>The token's label.</summary>
    public required string TokenLabel { get; init; }
    /// <summary>The token's serial.</summary>
    public required string TokenSerial { get; init; }
    /// <summary>The module path.</summary>
    public required string ModulePath { get; init; }
    /// <summary>Operations completed.</summary>
    public required long Operations { get; init; }
    /// <summary>Times marked down.</summary>
    public required long Failures { get; init; }
    /// <summary>Operations taken over from a failed member.</summary>
    public required long Failovers { get; init; }
    /// <summary>Times readmitted.</summary>
    public required long Readmissions { get; init; }
    /// <summary>Open sessions.</summary>
    public required int OpenSessions { get; init; }
    /// <summary>Logical keys this member lacks or holds differently.</summary>
    public required IReadOnlyList<string> AbsentKeys { get; init; }
}
