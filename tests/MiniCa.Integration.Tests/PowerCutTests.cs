using System.Collections.Concurrent;
using System.Text;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// The power fails while the CA issues under load. A kill (<see cref="CrashTests"/>) keeps the page cache, so what the
/// CA wrote but never flushed survives it; a power cut loses it. Here a recorder preloaded into the CA process
/// (PowerCut/recorder.c) logs, in order, every write to the issuance database's files, every flush of them to the disk
/// once it has returned, and every line the CA prints. From that log the test rebuilds what the disk would hold had
/// the power failed at a given moment: the writes that a flush of their file covered before it, and nothing else. That
/// image changes only at a flush, so the moment just before each flush is the worst for every certificate handed out
/// since the one before: the test checks the image there, after every batch, and so checks each certificate at its
/// worst moment. In each image every certificate handed out so far must be recorded as issued, with the same bytes,
/// and the database must be sound. Every eighth image also keeps a random half of the writes not yet flushed, as a
/// disk may: how the disk orders such writes is SQLite's concern (its log's checksums), probed here only coarsely.
/// </summary>
public sealed class PowerCutTests
{
    private const int Certificates = 800;

    [Fact]
    public async Task PowerCutAtAnyMoment_EveryCertificateHandedOutIsOnTheDisk_TheDatabaseIsSound()
    {
        var gcc = Prerequisites.RequireProgram("gcc", "gcc");
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-powercut");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        var recorder = directory.Combine("recorder.so");
        var compile = await ProcessRunner.RunAsync(gcc, ["-shared", "-fPIC", "-O2", "-o", recorder, Path.Combine(AppContext.BaseDirectory, "PowerCut", "recorder.c"), "-ldl", "-lpthread"]);
        Assert.True(compile.ExitCode == 0, $"the recorder did not compile: {compile.Combined}");

        // From the first start (the database's creation) to a kill once 800 certificates went out.
        var database = directory.Combine("data", "minica.db");
        var log = directory.Combine("writes.log");
        var handedOut = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await CrashTests.RunUntilKilledAsync(directory.Path, handedOut, Certificates, new Dictionary<string, string?>
        {
            ["LD_PRELOAD"] = recorder,
            ["POWERCUT_PREFIX"] = database,
            ["POWERCUT_LOG"] = log,
        });

        var disk = new RecordedDisk();
        var printed = new List<KeyValuePair<string, string>>();
        var line = new StringBuilder();
        var cuts = 0;
        var checkedUpTo = 0;
        await using (var stream = new BufferedStream(File.OpenRead(log), 1 << 20))
        {
            using var reader = new BinaryReader(stream);
            while (RecordedDisk.TryRead(reader, out var record))
            {
                if (record.Kind == 'S' && printed.Count > checkedUpTo)
                {
                    // The power fails just before this flush: the last moment of the image the flush is about to change.
                    await AssertCutAsync(disk, printed, directory.Combine("cut"), someUnflushed: ++cuts % 8 == 0);
                    checkedUpTo = printed.Count;
                }

                if (record.Kind != 'O')
                {
                    disk.Apply(record);
                    continue;
                }

                foreach (var c in Encoding.UTF8.GetString(record.Data))
                {
                    if (c != '\n')
                    {
                        line.Append(c);
                    }
                    else
                    {
                        if (line.ToString().Split(' ') is ["issued", var serial, var sha256])
                        {
                            printed.Add(new(serial, sha256));
                        }

                        line.Clear();
                    }
                }
            }
        }

        // The recorder saw the run: the flushes of the database's log, and every certificate but at most one (one printed
        // between the recorder's write to the output and its record, when the kill came).
        Assert.True(disk.Flushes(database + "-wal") > 10, $"the recorder logged {disk.Flushes(database + "-wal")} flushes of the write-ahead log");
        Assert.True(printed.Count >= handedOut.Count - 1 && printed.All(p => handedOut.ContainsKey(p.Key)), $"the recorder logged {printed.Count} certificates of the {handedOut.Count} printed");
        Assert.True(cuts > 10, $"only {cuts} moments checked");

        // The power fails at the kill: every certificate handed out (the log holds every flush before the last print).
        await AssertCutAsync(disk, [.. handedOut], directory.Combine("cut"), someUnflushed: true);
    }

    /// <summary>
    /// Builds the disk's image at this point of the log (and, with <paramref name="someUnflushed"/>, a second one that
    /// keeps some of the writes not yet flushed) and checks the handed-out certificates in each.
    /// </summary>
    private static async Task AssertCutAsync(RecordedDisk disk, List<KeyValuePair<string, string>> handedOut, string folder, bool someUnflushed)
    {
        var flushed = Path.Combine(folder, "flushed");
        disk.WriteImage(flushed, unflushed: null);
        CrashTests.AssertRecorded(handedOut, await CrashTests.ReadRowsAsync(Path.Combine(flushed, "minica.db")), $"power cut after {handedOut.Count} certificates, flushed writes only");
        if (someUnflushed)
        {
            var some = Path.Combine(folder, "some");
            disk.WriteImage(some, new Random(handedOut.Count));
            CrashTests.AssertRecorded(handedOut, await CrashTests.ReadRowsAsync(Path.Combine(some, "minica.db")), $"power cut after {handedOut.Count} certificates, flushed writes and some of the others");
        }

        Directory.Delete(folder, recursive: true);
    }

    /// <summary>One record of the recorder's log (recorder.c gives the format).</summary>
    private sealed record Record(char Kind, string Path, long Offset, byte[] Data);

    /// <summary>
    /// The files under the recorder's watch as the disk holds them: for each, what flushes made durable, and the
    /// changes (writes and truncations, in order) made since its last flush. Creating and deleting a file count at
    /// once: the test is about the data the CA flushes, not the directory's.
    /// </summary>
    private sealed class RecordedDisk
    {
        private readonly Dictionary<string, RecordedFile> _files = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _flushes = new(StringComparer.Ordinal);

        /// <summary>Reads the next whole record; false at the log's end (a record cut short by the kill is dropped).</summary>
        public static bool TryRead(BinaryReader reader, out Record record)
        {
            record = null!;
            try
            {
                var kind = (char)reader.ReadByte();
                var path = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadUInt16()));
                var offset = reader.ReadInt64();
                var length = reader.ReadInt32();
                var data = reader.ReadBytes(length);
                if (data.Length != length)
                {
                    return false;
                }

                record = new Record(kind, path, offset, data);
                return true;
            }
            catch (EndOfStreamException)
            {
                return false;
            }
        }

        public int Flushes(string path) => _flushes.GetValueOrDefault(path);

        public void Apply(Record record)
        {
            switch (record.Kind)
            {
                case 'W':
                case 'T':
                    File(record.Path).Unflushed.Add(record);
                    break;
                case 'S':
                    File(record.Path).Flush();
                    _flushes[record.Path] = Flushes(record.Path) + 1;
                    break;
                case 'U':
                    _files.Remove(record.Path);
                    break;
                default:
                    throw new InvalidDataException($"unknown record '{record.Kind}' in the recorder's log");
            }
        }

        /// <summary>
        /// Writes every file into <paramref name="folder"/> as the disk would hold it after a power cut now: what was
        /// flushed, and with <paramref name="unflushed"/> each later change kept or lost at random, in order.
        /// </summary>
        public void WriteImage(string folder, Random? unflushed)
        {
            Directory.CreateDirectory(folder);
            foreach (var (path, file) in _files)
            {
                var content = new Content(file.Durable);
                foreach (var change in file.Unflushed)
                {
                    if (unflushed?.Next(2) == 1)
                    {
                        content.Apply(change);
                    }
                }

                System.IO.File.WriteAllBytes(System.IO.Path.Combine(folder, System.IO.Path.GetFileName(path)), content.ToArray());
            }
        }

        private RecordedFile File(string path)
        {
            if (!_files.TryGetValue(path, out var file))
            {
                _files[path] = file = new RecordedFile();
            }

            return file;
        }
    }

    private sealed class RecordedFile
    {
        public Content Durable { get; } = new(null);

        public List<Record> Unflushed { get; } = [];

        public void Flush()
        {
            foreach (var change in Unflushed)
            {
                Durable.Apply(change);
            }

            Unflushed.Clear();
        }
    }

    /// <summary>A file's bytes, grown as writes reach past its end.</summary>
    private sealed class Content
    {
        private byte[] _bytes;
        private long _length;

        public Content(Content? copy)
        {
            _bytes = copy is null ? new byte[1 << 16] : (byte[])copy._bytes.Clone();
            _length = copy?._length ?? 0;
        }

        public void Apply(Record change)
        {
            if (change.Kind == 'T')
            {
                Resize(change.Offset);
                Array.Clear(_bytes, (int)change.Offset, _bytes.Length - (int)change.Offset);
                _length = change.Offset;
                return;
            }

            var end = change.Offset + change.Data.Length;
            Resize(end);
            change.Data.CopyTo(_bytes, change.Offset);
            _length = Math.Max(_length, end);
        }

        public byte[] ToArray() => _bytes[..(int)_length];

        private void Resize(long length)
        {
            if (length > _bytes.Length)
            {
                Array.Resize(ref _bytes, (int)Math.Max(length, _bytes.Length * 2L));
            }
        }
    }
}
