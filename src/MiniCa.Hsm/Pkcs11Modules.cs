using System.Collections.Concurrent;
using MiniCa.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace MiniCa.Hsm;

/// <summary>
/// Loads each PKCS#11 module once per process and never unloads it: disposing any loaded instance finalises the
/// module for every user in the process (C_Finalize is process-wide).
/// </summary>
public static class Pkcs11Modules
{
    private static readonly ConcurrentDictionary<string, Lazy<IPkcs11Library>> s_loaded = new(StringComparer.Ordinal);

    /// <summary>The factories every high-level object is made with.</summary>
    public static Pkcs11InteropFactories Factories { get; } = new();

    /// <summary>Whether the module at <paramref name="modulePath"/> is loaded in this process.</summary>
    public static bool IsLoaded(string modulePath) =>
        s_loaded.TryGetValue(Path.GetFullPath(modulePath), out var lazy) && lazy.IsValueCreated;

    /// <summary>Loads (once) and returns the module at <paramref name="modulePath"/>, initialised for OS locking.</summary>
    /// <exception cref="CaException">The file is missing or is not a PKCS#11 module.</exception>
    public static IPkcs11Library Load(string modulePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modulePath);
        var fullPath = Path.GetFullPath(modulePath);
        var lazy = s_loaded.GetOrAdd(fullPath, path => new Lazy<IPkcs11Library>(() => LoadCore(path)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed load is not cached: the operator may install the module and retry in the same process.
            s_loaded.TryRemove(new KeyValuePair<string, Lazy<IPkcs11Library>>(fullPath, lazy));
            throw;
        }
    }

    private static IPkcs11Library LoadCore(string path)
    {
        NativeInterop.RegisterResolver();
        if (!File.Exists(path))
        {
            throw new CaException(
                CaErrorKind.HsmModuleNotFound,
                $"PKCS#11 module not found at {path}. Install the HSM's client library there (for the embedded HSM: apt-get install softhsm2) or correct the module path in the configuration.");
        }

        try
        {
            return Factories.Pkcs11LibraryFactory.LoadPkcs11Library(Factories, path, AppType.MultiThreaded);
        }
        catch (Exception ex) when (ex is Pkcs11Exception or UnmanagedException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            var detail = ex is Pkcs11Exception p11 ? p11.RV.ToString() : ex.Message;
            throw new CaException(CaErrorKind.HsmModuleNotFound, $"Could not load the PKCS#11 module at {path}: {detail}.", ex);
        }
    }
}
