using System.Text.Json.Nodes;
using MiniCa.Core.Errors;
using MiniCa.Data.Queries;
using MiniCa.Hosting;
using MiniCa.TestSupport;

namespace MiniCa.Unit.Tests.Backup;

/// <summary>The backup manifest: what it lists, its round trip, and each way a manifest is refused with its field named.</summary>
public sealed class BackupManifestTests
{
    [Fact]
    public void Describe_ListsEveryFileButTheManifest_InOrder_WithSizeAndSha256()
    {
        using var directory = new TempDirectory("minica-manifest");
        Directory.CreateDirectory(directory.Combine("data", "hsm"));
        File.WriteAllText(directory.Combine("data", "hsm", "b.object"), "abc");
        File.WriteAllText(directory.Combine("ca.config.json"), "{}");
        File.WriteAllText(directory.Combine(BackupManifest.FileName), "{}");

        var files = BackupManifest.Describe(directory.Path);

        Assert.Equal(["ca.config.json", "data/hsm/b.object"], files.Select(f => f.Path));
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        Assert.Equal(new BackupFile("data/hsm/b.object", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), files[1]);
        Assert.Equal(2, files[0].Bytes);
    }

    [Fact]
    public void WriteThenRead_GivesTheSameManifest()
    {
        using var directory = new TempDirectory("minica-manifest");
        var manifest = Sample();

        manifest.Write(directory.Path);
        var read = BackupManifest.Read(directory.Path);

        Assert.Equal(manifest.CreatedAt, read.CreatedAt);
        Assert.Equal(manifest.Database, read.Database);
        Assert.Equal(manifest.Files, read.Files);
        Assert.Equal(manifest.Authorities[0].CertificateDer, read.Authorities[0].CertificateDer);
        Assert.Equal(manifest.Authorities[0] with { CertificateDer = [] }, read.Authorities[0] with { CertificateDer = [] });
        Assert.Null(read.ConfigurationFile);
        Assert.True(read.EmbeddedHsm);
        Assert.Throws<IOException>(() => manifest.Write(directory.Path));
    }

    [Fact]
    public void Read_NoManifest_SaysTheBackupIsIncomplete()
    {
        using var directory = new TempDirectory("minica-manifest");

        var error = Assert.Throws<CaException>(() => BackupManifest.Read(directory.Path));

        Assert.Equal(CaErrorKind.NotFound, error.Kind);
        Assert.Contains("holds no minica-backup.json: it is not a complete backup", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "is not a backup manifest at line 1")]
    [InlineData("format=minica-backup/2", "format: 'minica-backup/2' is not minica-backup/1 (made by another version of MiniCa)")]
    [InlineData("remove=database", "(field database)")]
    [InlineData("remove=files", "(field files)")]
    [InlineData("null=dataDirectory", "(field dataDirectory)")]
    [InlineData("dataDirectory=../elsewhere", "dataDirectory: '../elsewhere' is not a relative path inside the backup")]
    [InlineData("policiesDirectory=/etc", "policiesDirectory: '/etc' is not a relative path inside the backup")]
    [InlineData("configurationFile=a/./b.json", "configurationFile: 'a/./b.json' is not a relative path inside the backup")]
    [InlineData("file0=../../etc/passwd", "files: '../../etc/passwd' is not a relative path inside the backup")]
    [InlineData("sha0=ABC", "files: 'data/minica.db' has no size and lowercase hex SHA-256")]
    [InlineData("bytes0=-1", "files: 'data/minica.db' has no size and lowercase hex SHA-256")]
    [InlineData("twice", "files: 'data/minica.db' is listed twice")]
    [InlineData("database.file=data/other.db", "database.file: 'data/other.db' is not among the files")]
    [InlineData("database.provider=Oracle", "database.provider: 'Oracle' is neither Sqlite nor Postgres")]
    public void Read_ABadManifest_IsRefusedNamingTheField(string change, string expected)
    {
        using var directory = new TempDirectory("minica-manifest");
        Sample().Write(directory.Path);
        var path = directory.Combine(BackupManifest.FileName);
        File.WriteAllText(path, change == "not json" ? "{ not json" : Change(JsonNode.Parse(File.ReadAllText(path))!.AsObject(), change).ToJsonString());

        var error = Assert.Throws<CaException>(() => BackupManifest.Read(directory.Path));

        Assert.Equal(CaErrorKind.Malformed, error.Kind);
        Assert.StartsWith(path + " is not a backup manifest", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static JsonObject Change(JsonObject manifest, string change)
    {
        var (key, value) = change.Contains('=', StringComparison.Ordinal) ? (change[..change.IndexOf('=', StringComparison.Ordinal)], change[(change.IndexOf('=', StringComparison.Ordinal) + 1)..]) : (change, string.Empty);
        var files = manifest["files"]!.AsArray();
        switch (key)
        {
            case "remove":
                manifest.Remove(value);
                break;
            case "null":
                manifest[value] = null;
                break;
            case "file0":
                files[0]!["path"] = value;
                break;
            case "sha0":
                files[0]!["sha256"] = value;
                break;
            case "bytes0":
                files[0]!["bytes"] = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "twice":
                files.Add(files[0]!.DeepClone());
                break;
            case "database.file":
                manifest["database"]!["file"] = value;
                break;
            case "database.provider":
                manifest["database"]!["provider"] = value;
                break;
            default:
                manifest[key] = value;
                break;
        }

        return manifest;
    }

    private static BackupManifest Sample() => new(
        BackupManifest.CurrentFormat,
        new DateTimeOffset(2026, 12, 1, 10, 0, 0, 123, TimeSpan.Zero),
        null,
        "data",
        "policies",
        true,
        new BackupDatabase("Sqlite", "data/minica.db", 2, 5),
        [new RecordedAuthority("root", "7f01", "pkcs11:object=root", [0x30, 0x03, 0x02, 0x01, 0x01])],
        [new BackupFile("data/minica.db", 4096, new string('a', 64)), new BackupFile("policies/tls-server.json", 10, new string('b', 64))]);
}
