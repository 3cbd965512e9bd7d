namespace MiniCa.TestSupport;

/// <summary>
/// A tmpfs of a few MiB mounted on a throw-away directory: a real file system that fills up, so that a write on it
/// fails as on a full disk (ENOSPC). Mounting needs root (CAP_SYS_ADMIN), as ./test.sh runs; without it the test
/// fails saying so.
/// </summary>
public sealed class SmallFileSystem : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private SmallFileSystem(TempDirectory directory) => _directory = directory;

    public string Path => _directory.Path;

    private string Filler => Combine("filler");

    public string Combine(params string[] parts) => _directory.Combine(parts);

    /// <summary>Mounts a tmpfs of <paramref name="sizeMiB"/> MiB.</summary>
    public static async Task<SmallFileSystem> MountAsync(int sizeMiB)
    {
        var directory = new TempDirectory("minica-small-fs");
        var mount = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={sizeMiB}m,mode=0700", "minica-test", directory.Path]);
        if (mount.ExitCode != 0)
        {
            directory.Dispose();
            throw new InvalidOperationException(
                $"A full-disk test mounts a {sizeMiB} MiB tmpfs and could not ({mount.Combined.Trim()}): run the tests as root, as ./test.sh and CI do.");
        }

        return new SmallFileSystem(directory);
    }

    /// <summary>Bytes a new file may still take.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Takes every free byte with a filler file, until the kernel refuses a single byte more.</summary>
    public void Fill()
    {
        using (var filler = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            foreach (var size in new[] { 1 << 20, 1 << 12, 1 })
            {
                var block = new byte[size];
                try
                {
                    while (true)
                    {
                        // From the file's real end: a write refused part way leaves the bytes it got, and the stream's
                        // position behind them.
                        filler.Position = filler.Length;
                        filler.Write(block);
                    }
                }
                catch (IOException)
                {
                    // Full for a block of this size: go on with smaller ones.
                }
            }
        }

        if (FreeBytes != 0)
        {
            throw new InvalidOperationException($"{Path} still has {FreeBytes} bytes free after filling it.");
        }
    }

    /// <summary>Gives back the space <see cref="Fill"/> took.</summary>
    public void Free() => File.Delete(Filler);

    public async ValueTask DisposeAsync()
    {
        // A lazy unmount: the file system goes once nothing holds a file on it any more.
        await ProcessRunner.RunAsync("umount", ["--lazy", Path]);
        _directory.Dispose();
    }
}
