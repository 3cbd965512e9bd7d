using System.Diagnostics;
using MiniCa.Core.Errors;

namespace MiniCa.Hsm;

/// <summary>
/// A lock file held open with an exclusive advisory lock (<c>flock</c> on Linux, which .NET takes for
/// <see cref="FileShare.None"/>), released when disposed or when the process ends, however it ends. It serialises
/// the steps two MiniCa processes on one data directory must not run at once: making the embedded token, and the
/// key ceremony. The other process waits its turn.
/// </summary>
public static class ExclusiveFileLock
{
    /// <summary>
    /// How .NET reports an open refused because another process holds the lock: on Linux the IOException carries
    /// the raw errno (EWOULDBLOCK = 11), on Windows the HRESULT of ERROR_SHARING_VIOLATION.
    /// </summary>
    private static bool IsHeldElsewhere(IOException ex) => ex.HResult is 11 or unchecked((int)0x80070020);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits up to <paramref name="timeout"/> for the lock on <paramref name="path"/> (created if missing).</summary>
    /// <param name="path">The lock file.</param>
    /// <param name="what">What the lock guards, for the error when the wait times out.</param>
    /// <param name="timeout">How long to wait for another process to finish.</param>
    /// <exception cref="CaException">The wait timed out, or the file cannot be created.</exception>
    public static IDisposable Acquire(string path, string what, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException ex) when (IsHeldElsewhere(ex))
            {
                if (Stopwatch.GetElapsedTime(started) >= timeout)
                {
                    throw new CaException(
                        CaErrorKind.InvalidState,
                        $"Another MiniCa process has held {path} for {timeout.TotalSeconds:0} s ({what}); wait for it to finish, or stop it, and try again.",
                        ex);
                }

                Thread.Sleep(Poll);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CaException(CaErrorKind.Configuration, $"Cannot create the lock file {path} ({what}): {ex.Message}", ex);
            }
        }
    }
}
