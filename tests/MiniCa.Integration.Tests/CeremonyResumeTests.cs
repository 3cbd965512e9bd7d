using Microsoft.Data.Sqlite;
using MiniCa.TestSupport;

namespace MiniCa.Integration.Tests;

/// <summary>
/// A key ceremony interrupted after generating a key, or after recording a certificate before activating it, is
/// resumed by the next <c>minica init</c> with the key already in the HSM (and the recorded bytes); a finished one is
/// never run again, and a key the database did not record generating is never certified.
/// </summary>
public sealed class CeremonyResumeTests
{
    [Fact]
    public async Task Init_AfterAnInterruptionLeftIssuingPending_SignsTheRecordedCertificateWithTheSameKey()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-resume");
        var database = await InitAsync(directory);
        var (serial, tbs) = ReadIssuing(database);
        var rootPem = File.ReadAllText(directory.Combine("data", "ca", "root.pem"));

        // What a process killed between the record and the activation leaves: the row pending, no certificate.
        Execute(database, "UPDATE \"Authorities\" SET \"Status\" = 'Pending', \"CertificateDer\" = NULL, \"ActivatedAt\" = NULL WHERE \"Name\" = 'issuing'");
        File.Delete(directory.Combine("data", "ca", "issuing.pem"));
        File.Delete(directory.Combine("data", "ca", "issuing.crt"));

        var resumed = await Minica.RunAsync(directory.Path, ["init"]);

        Assert.True(resumed.ExitCode == 0, resumed.Combined);
        Assert.Contains("Resuming an interrupted key ceremony", resumed.Combined, StringComparison.Ordinal);
        // No key was generated: the two of the first init are the only ones recorded.
        Assert.Equal(2L, Query<long>(database, "SELECT COUNT(*) FROM \"KeyGenerations\""));
        Assert.Equal(rootPem, File.ReadAllText(directory.Combine("data", "ca", "root.pem")));
        var verify = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-check_ss_sig", "-CAfile", "root.pem", "issuing.pem"], workingDirectory: directory.Combine("data", "ca"));
        Assert.Equal("issuing.pem: OK", verify.StandardOutput.Trim());
        var (serialAfter, tbsAfter) = ReadIssuing(database);
        Assert.Equal(serial, serialAfter);
        Assert.Equal(tbs, tbsAfter);
        var certificate = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(File.ReadAllBytes(directory.Combine("data", "ca", "issuing.crt")));
        Assert.Equal(tbs, certificate.GetTbsCertificate());

        var again = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("The CA is already initialised (", again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_AfterAnInterruptionBetweenKeyGenerationAndRecord_CertifiesTheRecordedKeyOnly()
    {
        var openssl = Prerequisites.RequireProgram("openssl", "openssl");
        using var directory = new TempDirectory("minica-resume");
        var database = await InitAsync(directory);
        var issuingFile = directory.Combine("data", "ca", "issuing.crt");
        var key = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(File.ReadAllBytes(issuingFile)).CertificateStructure.SubjectPublicKeyInfo;
        var keyId = Query(database, "SELECT \"KeyId\" FROM \"KeyGenerations\" WHERE \"Name\" = 'issuing'");
        Assert.Matches("^[0-9a-f]{32}$", keyId);
        Assert.Contains(keyId, Query(database, "SELECT \"Details\" FROM \"AuditEvents\" WHERE \"Action\" = 'authority.key_generating' AND \"Subject\" = 'authority:issuing'"), StringComparison.Ordinal);

        // What a process killed after generating the issuing key, before recording its certificate, leaves: the
        // generation recorded, the key in the HSM, no authority row (the root is finished).
        Execute(database, "DELETE FROM \"Authorities\" WHERE \"Name\" = 'issuing'");
        File.Delete(issuingFile);
        File.Delete(directory.Combine("data", "ca", "issuing.pem"));

        // A key under that label with another CKA_ID than the recorded one is not this ceremony's: refused.
        Execute(database, $"UPDATE \"KeyGenerations\" SET \"KeyId\" = '{new string('0', 32)}' WHERE \"Name\" = 'issuing'");
        var refused = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("The HSM already holds key(s) 'issuing' but the database records no certificate for them, nor their generation", refused.StandardError, StringComparison.Ordinal);

        Execute(database, $"UPDATE \"KeyGenerations\" SET \"KeyId\" = '{keyId}' WHERE \"Name\" = 'issuing'");
        var resumed = await Minica.RunAsync(directory.Path, ["init"]);

        Assert.True(resumed.ExitCode == 0, resumed.Combined);
        Assert.Contains($"Resuming an interrupted key ceremony: the P-256 key of authority issuing (CKA_ID {keyId}) was generated but its certificate never recorded", resumed.Combined, StringComparison.Ordinal);
        // No key was generated: the two of the first init are the only ones recorded.
        Assert.Equal(2L, Query<long>(database, "SELECT COUNT(*) FROM \"KeyGenerations\""));
        var certified = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(File.ReadAllBytes(issuingFile)).CertificateStructure.SubjectPublicKeyInfo;
        Assert.Equal(key, certified);
        var verify = await ProcessRunner.RunAsync(openssl, ["verify", "-x509_strict", "-check_ss_sig", "-CAfile", "root.pem", "issuing.pem"], workingDirectory: directory.Combine("data", "ca"));
        Assert.Equal("issuing.pem: OK", verify.StandardOutput.Trim());
        Assert.Equal("Active", Query(database, "SELECT \"Status\" FROM \"Authorities\" WHERE \"Name\" = 'issuing'"));
    }

    [Fact]
    public async Task Init_KeysInTheHsmButNoRecord_RefusesNamingThemAndLeavesThem()
    {
        using var directory = new TempDirectory("minica-resume");
        await InitAsync(directory);
        // A database lost (or a ceremony killed between generating a key and recording it): the keys may be a
        // live CA's, so nothing may replace them.
        foreach (var file in Directory.GetFiles(directory.Combine("data"), "minica.db*"))
        {
            File.Delete(file);
        }

        var refused = await Minica.RunAsync(directory.Path, ["init"]);

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("The HSM already holds key(s) 'root', 'issuing' but the database records no certificate for them", refused.StandardError, StringComparison.Ordinal);
        var keys = await Minica.RunAsync(directory.Path, ["hsm", "keys"]);
        Assert.True(keys.ExitCode == 0, keys.Combined);
        Assert.Matches(@"│ root\s+│ EC", keys.StandardOutput);
        Assert.Matches(@"│ issuing\s+│ EC", keys.StandardOutput);
    }

    [Fact]
    public async Task Init_TwoAtOnceOnANewDataDirectory_OneMakesTheCaAndTheOtherWaitsThenRefuses()
    {
        Prerequisites.RequireSoftHsm();
        using var directory = new TempDirectory("minica-resume");
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");

        var runs = await Task.WhenAll(Minica.RunAsync(directory.Path, ["init"]), Minica.RunAsync(directory.Path, ["init"]));

        // Without the locks the second one failed on the first one's PIN file, or made a second token or second keys.
        var made = Assert.Single(runs, r => r.ExitCode == 0);
        var refused = Assert.Single(runs, r => r.ExitCode != 0);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("The CA is already initialised (root: active, issuing: active)", refused.StandardError, StringComparison.Ordinal);
        var keys = await Minica.RunAsync(directory.Path, ["hsm", "keys"]);
        Assert.True(keys.ExitCode == 0, keys.Combined + made.Combined);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(keys.StandardOutput, @"│ root\s+│"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(keys.StandardOutput, @"│ issuing\s+│"));
        var database = $"Data Source={directory.Combine("data", "minica.db")};Pooling=False";
        Assert.Equal(2L, Query<long>(database, "SELECT COUNT(*) FROM \"KeyGenerations\""));
    }

    /// <summary>A CA made by <c>minica init</c> with the embedded HSM; returns its database's connection string.</summary>
    private static async Task<string> InitAsync(TempDirectory directory)
    {
        Prerequisites.RequireSoftHsm();
        Minica.WriteConfig(directory.Path, """{ "DataDirectory": "data" }""");
        var first = await Minica.RunAsync(directory.Path, ["init"]);
        Assert.True(first.ExitCode == 0, first.Combined);
        return $"Data Source={directory.Combine("data", "minica.db")};Pooling=False";
    }

    private static (string Serial, byte[] Tbs) ReadIssuing(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"SerialHex\", \"TbsDer\" FROM \"Authorities\" WHERE \"Name\" = 'issuing'";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.GetString(0), (byte[])reader.GetValue(1));
    }

    private static string Query(string connectionString, string sql) => Query<string>(connectionString, sql);

    private static T Query<T>(string connectionString, string sql)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Assert.IsType<T>(command.ExecuteScalar());
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.Equal(1, command.ExecuteNonQuery());
    }
}
