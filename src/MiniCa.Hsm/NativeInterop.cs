using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MiniCa.Hsm;

/// <summary>Native-library plumbing the PKCS#11 door needs on Linux.</summary>
internal static partial class NativeInterop
{
    private static int s_registered;

    /// <summary>
    /// Pkcs11Interop 5.3 imports "libdl", which glibc 2.34+ ships only as libdl.so.2 (Pkcs11Interop issue #239):
    /// map the name before the first module is loaded.
    /// </summary>
    // CA2255: a library initializer is exactly what is needed here: the resolver must exist before any
    // Pkcs11Interop type touches libdl, whichever entry point the host uses first.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterResolver()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 1)
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(typeof(Net.Pkcs11Interop.Common.CKR).Assembly, Resolve);
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName == "libdl" && OperatingSystem.IsLinux()
            && NativeLibrary.TryLoad("libdl.so.2", assembly, searchPath, out var handle))
        {
            return handle;
        }

        return IntPtr.Zero;
    }

    /// <summary>
    /// Sets a variable in the native environment. SoftHSM reads SOFTHSM2_CONF with getenv(3) when the module
    /// initialises; <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach it.
    /// </summary>
    internal static void SetNativeEnvironment(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (setenv(name, value, 1) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Removes a variable from the native environment.</summary>
    internal static void UnsetNativeEnvironment(string name)
    {
        Environment.SetEnvironmentVariable(name, null);
        if (!OperatingSystem.IsWindows() && unsetenv(name) != 0)
        {
            throw new InvalidOperationException($"unsetenv({name}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Reads a variable from the native environment (what native modules see).</summary>
    internal static string? GetNativeEnvironment(string name)
    {
        if (OperatingSystem.IsWindows())
        {
            return Environment.GetEnvironmentVariable(name);
        }

        var pointer = getenv(name);
        return pointer == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(pointer);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int unsetenv(string name);
}
