using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using MiniCa.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace MiniCa.Hsm;

/// <summary>
/// One PKCS#11 token the CA uses: its module (loaded once per process), its slot, the user login and a pool of
/// sessions. Every call goes through <see cref="Execute{T}"/>, which hands a session to one thread at a time and
/// recovers once from a lost session, a lost login, a stale object handle or a device error before giving up
/// with a message a person can act on. An HSM cluster is a set of members serving the same logical keys.
/// </summary>
public sealed class HsmMember : IDisposable
{
    private readonly string _pin;
    private readonly ISlot _slot;
    private readonly SessionPool _pool;
    /// <summary>The turn of each token of each loaded module (see <see cref="WithObjectStore"/>), shared by every member on it.</summary>
    private static readonly ConditionalWeakTable<IPkcs11Library, ConcurrentDictionary<string, Lock>> s_objectStores = new();
    private readonly ConcurrentDictionary<(CKO Class, string Label), IObjectHandle> _handles = new();
    private readonly Lock _objectStore;
    private readonly ISession _anchor;
    private readonly PrivateModule? _privateModule;
    private long _operations;
    private long _recoveries;
    private int _inFlight;
    private int _disposed;

    private HsmMember(HsmMemberSettings settings, IPkcs11Library library, PrivateModule? privateModule, ISlot slot, ITokenInfo token, string pin)
    {
        _privateModule = privateModule;
        Settings = settings;
        Library = library;
        _slot = slot;
        _pin = pin;
        TokenLabel = token.Label.Trim();
        TokenSerial = token.SerialNumber.Trim();
        TokenModel = token.Model.Trim();
        TokenManufacturer = token.ManufacturerId.Trim();
        _objectStore = s_objectStores.GetOrCreateValue(library).GetOrAdd(TokenSerial, _ => new Lock());
        _pool = new SessionPool(slot, settings.MaxSessions, settings.SessionWaitTimeout, EnsureLoggedIn);

        // The anchor session keeps the token logged in while pooled sessions come and go: closing a token's last
        // session logs it out and invalidates private-object handles (PKCS#11 v2.40 §5.6, C_CloseSession).
        _anchor = OpenLoggedIn(SessionType.ReadOnly, "log in");
    }

    /// <summary>The settings this member was connected with.</summary>
    public HsmMemberSettings Settings { get; }

    /// <summary>The member's name.</summary>
    public string Name => Settings.Name;

    /// <summary>The loaded module.</summary>
    internal IPkcs11Library Library { get; }

    /// <summary>The token's label as the token reports it.</summary>
    public string TokenLabel { get; }

    /// <summary>The token's serial number.</summary>
    public string TokenSerial { get; }

    /// <summary>The token's model.</summary>
    public string TokenModel { get; }

    /// <summary>The token's manufacturer.</summary>
    public string TokenManufacturer { get; }

    /// <summary>The slot id the token is in now (slot ids can change; tokens are found by label or serial).</summary>
    public ulong SlotId => _slot.SlotId;

    /// <summary>Operations run through this member.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Times a failed operation was recovered (fresh session, re-login, handle lookup).</summary>
    public long Recoveries => Interlocked.Read(ref _recoveries);

    /// <summary>Sessions open in the signing pool now.</summary>
    public int OpenSessions => _pool.OpenSessions;

    /// <summary>Connects to the token described by <paramref name="settings"/> and logs in.</summary>
    /// <exception cref="CaException">Module missing, token not found, PIN wrong or unreadable.</exception>
    public static HsmMember Connect(HsmMemberSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var privateModule = settings.ModuleEnvironment.Count > 0 ? Pkcs11Modules.LoadPrivate(settings.ModulePath, settings.ModuleEnvironment) : null;
        try
        {
            var library = privateModule?.Library ?? Pkcs11Modules.Load(settings.ModulePath);
            var (slot, token) = FindToken(library, settings);
            var pin = PinSource.Resolve(settings.PinSource, settings.BaseDirectory);
            return new HsmMember(settings, library, privateModule, slot, token, pin);
        }
        catch (Pkcs11Exception ex)
        {
            Release(privateModule);
            throw Pkcs11Errors.Map(ex, settings.Name, settings.TokenDescription, "connect");
        }
        catch
        {
            Release(privateModule);
            throw;
        }
    }

    private static void Release(PrivateModule? module)
    {
        if (module is not null)
        {
            Pkcs11Modules.Unload(module);
        }
    }

    /// <summary>Finds the slot holding the configured token, or explains which tokens exist instead.</summary>
    internal static (ISlot Slot, ITokenInfo Token) FindToken(IPkcs11Library library, HsmMemberSettings settings)
    {
        var matches = new List<(ISlot, ITokenInfo)>();
        var present = new List<string>();
        var uninitialised = 0;
        foreach (var slot in library.GetSlotList(SlotsType.WithTokenPresent))
        {
            ITokenInfo info;
            try
            {
                info = slot.GetTokenInfo();
            }
            catch (Pkcs11Exception)
            {
                continue;
            }

            if (!info.TokenFlags.TokenInitialized)
            {
                uninitialised++;
                continue;
            }

            var label = info.Label.Trim();
            var serial = info.SerialNumber.Trim();
            present.Add($"'{label}' (serial {serial})");
            if (settings.TokenLabel is not null ? label == settings.TokenLabel : serial == settings.TokenSerial)
            {
                matches.Add((slot, info));
            }
        }

        if (matches.Count == 1)
        {
            return matches[0];
        }

        if (matches.Count > 1)
        {
            throw new CaException(
                CaErrorKind.HsmTokenNotFound,
                $"HSM member '{settings.Name}': {matches.Count} tokens have {settings.TokenDescription} in {settings.ModulePath}; configure TokenSerial to choose one.");
        }

        var existing = present.Count == 0 ? "no initialised tokens" : "tokens present: " + string.Join(", ", present);
        if (uninitialised > 0)
        {
            existing += $" (and {uninitialised} uninitialised slot{(uninitialised == 1 ? string.Empty : "s")})";
        }

        throw new CaException(
            CaErrorKind.HsmTokenNotFound,
            $"HSM member '{settings.Name}': token with {settings.TokenDescription} not found in {settings.ModulePath}; {existing}.");
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on a pooled read-only session that no other thread uses meanwhile.
    /// <paramref name="action"/> completes "failed to …" in error messages.
    /// </summary>
    public T Execute<T>(string action, Func<ISession, T> operation) => Tracked(() => ExecuteCore(action, operation));

    /// <summary>Counts <paramref name="call"/> as in flight, so <see cref="Dispose(TimeSpan)"/> never finalises under it.</summary>
    private T Tracked<T>(Func<T> call)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            return call();
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private T ExecuteCore<T>(string action, Func<ISession, T> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _operations);
        for (var attempt = 1; ; attempt++)
        {
            var session = Rent(action);
            var keep = true;
            try
            {
                return operation(session);
            }
            catch (Pkcs11Exception ex) when (attempt == 1 && Pkcs11Errors.IsRecoverable(ex.RV))
            {
                keep = Recover(ex.RV, session, action);
            }
            catch (Pkcs11Exception ex)
            {
                keep = !Pkcs11Errors.IsRecoverable(ex.RV);
                throw Pkcs11Errors.Map(ex, Name, TokenLabel, action);
            }
            finally
            {
                if (keep)
                {
                    _pool.Return(session);
                }
                else
                {
                    _pool.Discard(session);
                }
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on a fresh read-write session (key generation, object management),
    /// closed afterwards. Rare, so not pooled: some HSMs allow few read-write sessions.
    /// </summary>
    public T ExecuteReadWrite<T>(string action, Func<ISession, T> operation) => Tracked(() => ExecuteReadWriteCore(action, operation));

    private T ExecuteReadWriteCore<T>(string action, Func<ISession, T> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _operations);
        var session = OpenLoggedIn(SessionType.ReadWrite, action);
        try
        {
            return operation(session);
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Map(ex, Name, TokenLabel, action);
        }
        finally
        {
            try
            {
                session.CloseSession();
            }
            catch (Pkcs11Exception)
            {
                // The session is gone either way.
            }
        }
    }

    /// <summary>
    /// Opens a logged-in read-write session the caller owns (session objects live as long as it; close it with
    /// <see cref="ISession.CloseSession"/>). For multi-step work such as key copying.
    /// </summary>
    internal ISession OpenReadWriteSession(string action)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _operations);
        return OpenLoggedIn(SessionType.ReadWrite, action);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> in a read-write session logged in as the token's security officer (only
    /// the SO may mark a key CKA_TRUSTED). The SO cannot log in while this member's read-only sessions are open
    /// (CKR_SESSION_READ_ONLY_EXISTS) and login state is per application, so the SO works through a private copy
    /// of the module: a separate application, unloaded afterwards, while signing goes on here.
    /// </summary>
    internal T ExecuteAsSecurityOfficer<T>(string soPin, string action, Func<ISession, T> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _operations);
        var module = Pkcs11Modules.LoadPrivate(Settings.ModulePath, Settings.ModuleEnvironment);
        try
        {
            var (slot, _) = FindToken(module.Library, Settings);
            var session = slot.OpenSession(SessionType.ReadWrite);
            try
            {
                try
                {
                    session.Login(CKU.CKU_SO, soPin);
                }
                catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_PIN_INCORRECT)
                {
                    throw new CaException(
                        CaErrorKind.HsmPinIncorrect,
                        $"HSM member '{Name}': token '{TokenLabel}' refused the security officer PIN (CKR_PIN_INCORRECT). Check the member's SoPinSource.",
                        ex);
                }

                try
                {
                    return operation(session);
                }
                finally
                {
                    session.Logout();
                }
            }
            finally
            {
                session.CloseSession();
            }
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Map(ex, Name, TokenLabel, action);
        }
        finally
        {
            Pkcs11Modules.Unload(module);
        }
    }

    /// <summary>Forgets cached object handles (after objects were destroyed or created under a known label).</summary>
    internal void ForgetHandles() => _handles.Clear();

    /// <summary>
    /// Runs <paramref name="call"/>, which searches the token's objects, creates or destroys objects or reads their
    /// attributes, alone among such calls on this token through this loaded module (by this member or another
    /// connected to the same token). SoftHSM2 2.6.1 (Debian 12's) re-reads a token's object files when a search
    /// starts without shutting out an object another thread is creating or reading: the creation then fails
    /// (CKR_GENERAL_ERROR, CKR_TEMPLATE_INCONSISTENT) or a search misses the object (upstream issue 573, fixed after
    /// 2.6.1). Signing with a found handle takes no turn, and these calls are off the signing path (handles and
    /// public keys are cached), so the turn costs signing nothing.
    /// </summary>
    internal T WithObjectStore<T>(Func<T> call)
    {
        lock (_objectStore)
        {
            return call();
        }
    }

    /// <summary>Every object of <paramref name="objectClass"/> labelled <paramref name="label"/>, searched in the token's turn (see <see cref="WithObjectStore"/>; no cache).</summary>
    public List<IObjectHandle> Find(ISession session, CKO objectClass, string? label) =>
        WithObjectStore(() => FindAll(session, objectClass, label));

    /// <summary>
    /// Finds the object of <paramref name="objectClass"/> labelled <paramref name="label"/>, caching its handle
    /// (token-object handles are valid in every session of this process until logout).
    /// </summary>
    /// <exception cref="CaException">No such object, or the label is ambiguous.</exception>
    public IObjectHandle FindObject(ISession session, CKO objectClass, string label)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (_handles.TryGetValue((objectClass, label), out var cached))
        {
            return cached;
        }

        var found = Find(session, objectClass, label);
        if (found.Count == 0)
        {
            throw new CaException(
                CaErrorKind.HsmKeyNotFound,
                $"HSM member '{Name}': key '{label}' ({ObjectClassName(objectClass)}) not found on token '{TokenLabel}'.");
        }

        if (found.Count > 1)
        {
            throw new CaException(
                CaErrorKind.HsmKeyNotFound,
                $"HSM member '{Name}': {found.Count} objects on token '{TokenLabel}' are labelled '{label}' ({ObjectClassName(objectClass)}); labels of CA keys must be unique.");
        }

        _handles[(objectClass, label)] = found[0];
        return found[0];
    }

    /// <summary>
    /// Every object of <paramref name="objectClass"/> labelled <paramref name="label"/> (no cache, no turn: for a
    /// session of this member use <see cref="Find"/>; this is for sessions of another module copy, such as the
    /// security officer's).
    /// </summary>
    public static List<IObjectHandle> FindAll(ISession session, CKO objectClass, string? label)
    {
        ArgumentNullException.ThrowIfNull(session);
        var factory = Pkcs11Modules.Factories.ObjectAttributeFactory;
        var template = new List<IObjectAttribute> { factory.Create(CKA.CKA_CLASS, objectClass), factory.Create(CKA.CKA_TOKEN, true) };
        if (label is not null)
        {
            template.Add(factory.Create(CKA.CKA_LABEL, label));
        }

        return session.FindAllObjects(template);
    }

    /// <summary>Reports the module, token, login state and pool of this member.</summary>
    public HsmMemberStatus GetStatus()
    {
        var info = Library.GetInfo();
        var loggedIn = Execute("read the session state", s => s.GetSessionInfo().State is CKS.CKS_RO_USER_FUNCTIONS or CKS.CKS_RW_USER_FUNCTIONS);
        var slots = new List<HsmSlotStatus>();
        foreach (var slot in Library.GetSlotList(SlotsType.WithOrWithoutTokenPresent))
        {
            var slotInfo = slot.GetSlotInfo();
            string? label = null;
            string? serial = null;
            var initialised = false;
            if (slotInfo.SlotFlags.TokenPresent)
            {
                var token = slot.GetTokenInfo();
                initialised = token.TokenFlags.TokenInitialized;
                label = initialised ? token.Label.Trim() : null;
                serial = token.SerialNumber.Trim();
            }

            slots.Add(new HsmSlotStatus(slot.SlotId, slotInfo.SlotDescription.Trim(), slotInfo.SlotFlags.TokenPresent, initialised, label, serial));
        }

        return new HsmMemberStatus
        {
            Name = Name,
            ModulePath = Settings.ModulePath,
            LibraryDescription = $"{info.ManufacturerId.Trim()} {info.LibraryDescription.Trim()} {info.LibraryVersion}".Trim(),
            CryptokiVersion = info.CryptokiVersion,
            TokenLabel = TokenLabel,
            TokenSerial = TokenSerial,
            TokenModel = $"{TokenManufacturer} {TokenModel}".Trim(),
            SlotId = SlotId,
            LoggedIn = loggedIn,
            OpenSessions = OpenSessions,
            MaxSessions = _pool.MaxSessions,
            Operations = Operations,
            Recoveries = Recoveries,
            Slots = slots,
        };
    }

    private ISession Rent(string action)
    {
        try
        {
            return _pool.Rent();
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Map(ex, Name, TokenLabel, action);
        }
    }

    private ISession OpenLoggedIn(SessionType type, string action)
    {
        ISession session;
        try
        {
            session = _slot.OpenSession(type);
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Map(ex, Name, TokenLabel, action);
        }

        try
        {
            EnsureLoggedIn(session);
            return session;
        }
        catch
        {
            try
            {
                session.CloseSession();
            }
            catch (Pkcs11Exception)
            {
                // Best effort: the login failure is the error worth reporting.
            }

            throw;
        }
    }

    private void EnsureLoggedIn(ISession session)
    {
        try
        {
            if (session.GetSessionInfo().State is CKS.CKS_RO_USER_FUNCTIONS or CKS.CKS_RW_USER_FUNCTIONS)
            {
                return;
            }

            session.Login(CKU.CKU_USER, _pin);
        }
        catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Login state is per token per process: another session logged in first.
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Map(ex, Name, TokenLabel, "log in");
        }
    }

    /// <summary>Repairs what <paramref name="rv"/> broke; returns whether the session may be reused.</summary>
    private bool Recover(CKR rv, ISession session, string action)
    {
        Interlocked.Increment(ref _recoveries);
        switch (rv)
        {
            case CKR.CKR_USER_NOT_LOGGED_IN:
                _handles.Clear();
                EnsureLoggedIn(session);
                return true;
            case CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID:
                // Handles die with a logout (PKCS#11 v2.40 §5.6): log in again before looking the key up anew,
                // or the lookup would see only public objects.
                _handles.Clear();
                EnsureLoggedIn(session);
                return true;
            case CKR.CKR_DEVICE_ERROR:
                _handles.Clear();
                _pool.DiscardIdle();
                return false;
            default:
                // CKR_SESSION_HANDLE_INVALID / CKR_SESSION_CLOSED: this session is gone; make sure the next one is
                // logged in even if every session (and so the login) went with it.
                _ = action;
                _handles.Clear();
                return false;
        }
    }

    private static string ObjectClassName(CKO objectClass) => objectClass switch
    {
        CKO.CKO_PRIVATE_KEY => "private key",
        CKO.CKO_PUBLIC_KEY => "public key",
        CKO.CKO_SECRET_KEY => "secret key",
        _ => objectClass.ToString(),
    };

    /// <summary>
    /// Closes this member's sessions (and finalises its private module copy, if it has one) once no call is in
    /// flight, waiting at most 5 s; see <see cref="Dispose(TimeSpan)"/>.
    /// </summary>
    public void Dispose() => Dispose(TimeSpan.FromSeconds(5));

    /// <summary>
    /// Closes this member's sessions and finalises its private module copy once no call is in flight. Finalising
    /// (or unloading) a module while another thread is inside it crashes the process, so when calls are still
    /// in flight after <paramref name="drainTimeout"/> (a module that hangs) everything is left as it is.
    /// </summary>
    public void Dispose(TimeSpan drainTimeout)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!SpinWait.SpinUntil(() => Volatile.Read(ref _inFlight) == 0, drainTimeout))
        {
            return;
        }

        try
        {
            _pool.Dispose();
            _anchor.CloseSession();
        }
        catch (Exception ex) when (ex is Pkcs11Exception or UnmanagedException)
        {
            // Already closed by the token (or the module is gone).
        }

        Release(_privateModule);
    }
}

/// <summary>What <c>minica hsm status</c> shows about one member.</summary>
public sealed record HsmMemberStatus
{
    /// <summary>The member's configured name.</summary>
    public required string Name { get; init; }
    /// <summary>The PKCS#11 module path.</summary>
    public required string ModulePath { get; init; }
    /// <summary>Manufacturer, description and version the module reports.</summary>
    public required string LibraryDescription { get; init; }
    /// <summary>The PKCS#11 version the module implements.</summary>
    public required string CryptokiVersion { get; init; }
    /// <summary>The token's label.</summary>
    public required string TokenLabel { get; init; }
    /// <summary>The token's serial number.</summary>
    public required string TokenSerial { get; init; }
    /// <summary>The token's manufacturer and model.</summary>
    public required string TokenModel { get; init; }
    /// <summary>The slot the token is in.</summary>
    public required ulong SlotId { get; init; }
    /// <summary>Whether the CA's sessions are logged in as the user.</summary>
    public required bool LoggedIn { get; init; }
    /// <summary>Sessions open in the signing pool.</summary>
    public required int OpenSessions { get; init; }
    /// <summary>The pool's limit.</summary>
    public required int MaxSessions { get; init; }
    /// <summary>Operations run since start.</summary>
    public required long Operations { get; init; }
    /// <summary>Operations recovered after a lost session, login or handle.</summary>
    public required long Recoveries { get; init; }
    /// <summary>Every slot of the module.</summary>
    public required IReadOnlyList<HsmSlotStatus> Slots { get; init; }
}

/// <summary>One slot of the member's module.</summary>
public sealed record HsmSlotStatus(ulong SlotId, string Description, bool TokenPresent, bool TokenInitialized, string? TokenLabel, string? TokenSerial);
