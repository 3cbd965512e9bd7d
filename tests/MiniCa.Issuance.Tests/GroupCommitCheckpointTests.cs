using Microsoft.Data.Sqlite;
using MiniCa.Core.Telemetry;
using MiniCa.Data;
using MiniCa.Data.Stores;

namespace MiniCa.Issuance.Tests;

/// <summary>
/// The group commit checkpoints the write-ahead log itself (SQLite's automatic checkpoint is off on its connection,
/// so that the checkpoint's time is counted apart): the log stays about 1,000 frames long and its pages reach the
/// database file. Without the writer's checkpoint the log would hold every page written. A real SQLite file.
/// </summary>
public sealed class GroupCommitCheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("minica-checkpoint-").FullName;
    private readonly WriteGate _gate = new();

    [Fact]
    public async Task ManyWrites_LogCheckpointedEveryThousandFrames_StaysSmall()
    {
        var database = Path.Combine(_directory, "checkpoint.db");
        var connectionString = $"Data Source={database};Pooling=False";
        using (var connection = new SqliteConnection(connectionString))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            // As the CA's database: WAL (CaBootstrapper).
            create.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE Writes (Body BLOB NOT NULL)";
            create.ExecuteNonQuery();
        }

        var checkpointBefore = WriterTime.Seconds(WriterState.Checkpoint);
        using (var commit = new SqliteGroupCommit(connectionString, _gate, holdForCompanions: false))
        {
            // 5,000 rows of 3,500 bytes, a page each: more than 5,000 log frames, in batches of up to 250 writes.
            for (var round = 0; round < 20; round++)
            {
                await Task.WhenAll(Enumerable.Range(0, 250).Select(_ =>
                    commit.RunAsync(batch => batch.Execute("INSERT INTO Writes (Body) VALUES (randomblob(3500))"), CancellationToken.None)));
            }

            // A frame is a 4 KiB page and its 24-byte header; the log file keeps the length of its longest run.
            var frames = new FileInfo(database + "-wal").Length / (4096 + 24);
            Assert.InRange(frames, 1, 2_000);
        }

        // Five checkpoints of about 1,000 pages each (4 MiB read from the log, written and flushed to the database
        // file) take milliseconds, not the microseconds of a count around nothing.
        var checkpointed = WriterTime.Seconds(WriterState.Checkpoint) - checkpointBefore;
        Assert.True(checkpointed > 0.002, $"{checkpointed * 1000:0.000} ms counted as checkpoints");
        // The database file itself holds most of the 5,000 pages (those of the last checkpoint's frames on).
        Assert.True(new FileInfo(database).Length > 3_000L * 4096, $"the database file is {new FileInfo(database).Length} bytes: the log was not checkpointed into it");
    }

    public void Dispose()
    {
        _gate.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
