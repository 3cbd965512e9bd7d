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

    /// <summary>
    /// Loads a private copy of the module at <paramref name="modulePath"/> with <paramref name="environment"/> set in
    /// the native environment while it initialises. Each call copies the file anew, so the copy has its own static
    /// state (p11-kit's client, for one, reads its server address once per loaded library) and can be finalised
    /// and reloaded without touching any other member. Release it with <see cref="Unload"/>.
    /// </summary>
    public static PrivateModule LoadPrivate(string modulePath, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modulePath);
        ArgumentNullException.ThrowIfNull(environment);
        var source = Path.GetFullPath(modulePath);
        if (!File.Exists(source))
        {
            return new PrivateModule(LoadCore(source), source);
        }

        Directory.CreateDirectory(s_privateDirectory);
        var copy = Path.Combine(s_privateDirectory, $"{Guid.NewGuid():N}-{Path.GetFileName(source)}");
        File.Copy(source, copy);
        lock (s_environmentLock)
        {
            var previous = environment.Keys.ToDictionary(k => k, NativeInterop.GetNativeEnvironment, StringComparer.Ordinal);
            try
            {
                foreach (var (name, value) in environment)
                {
                    NativeInterop.SetNativeEnvironment(name, value);
                }

                return new PrivateModule(LoadCore(copy), copy);
            }
            catch
            {
                File.Delete(copy);
                throw;
            }
            finally
            {
                foreach (var (name, value) in previous)
                {
                    if (value is null)
                    {
                        NativeInterop.UnsetNativeEnvironment(name);
                    }
                    else
                    {
                        NativeInterop.SetNativeEnvironment(name, value);
                    }
                }
            }
        }
    }

    /// <summary>Finalises a private module copy and deletes its file.</summary>
    public static void Unload(PrivateModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        try
        {
            module.Library.Dispose();
        }
        catch (Exception ex) when (ex is Pkcs11Exception or UnmanagedException)
        {
            // A dead module may refuse C_Finalize; the copy is dropped either way.
        }

        if (module.CopyPath.StartsWith(s_privateDirectory, StringComparison.Ordinal))
        {
            try
            {
                File.Delete(module.CopyPath);
            }
            catch (IOException)
            {
                // Removed with the folder at the next start.
            }
        }
    }

    private static readonly string s_privateDirectory = Path.Combine(Path.GetTempPath(), "minica-modules", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    private static readonly Lock s_environmentLock = new();

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

/// <summary>A private copy of a PKCS#11 module loaded for one member.</summary>
/// <param name="Library">The loaded module.</param>
/// <param name="CopyPath">The copy's file.</param>
public sealed record PrivateModule(IPkcs11Library Library, string CopyPath);
