using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Hosting;
using MiniCa.TestSupport;

namespace MiniCa.Unit.Tests;

/// <summary>Pure tests of configuration loading: no HSM, no database. Environment-touching tests share one collection.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class ConfigurationTests : IDisposable
{
    private readonly TempDirectory _directory = new("minica-config");

    public void Dispose() => _directory.Dispose();

    private string Write(string json)
    {
        var path = _directory.Combine("ca.config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static CaException Fails(params string[] args) =>
        Assert.Throws<CaException>(() => MiniCaConfiguration.Load(args));

    [Fact]
    public void Load_RepositoryConfig_IsValidWithRootAndIssuing()
    {
        var loaded = MiniCaConfiguration.Load(["--config", Path.Combine(RepositoryPaths.Root, "ca.config.json")]);

        Assert.Equal(Path.Combine(RepositoryPaths.Root, "data"), loaded.Options.DataDirectory);
        Assert.Equal("http://localhost:5000", loaded.Options.PublicBaseUrl);
        Assert.True(loaded.Options.Hsm.IsEmbedded);
        Assert.Equal("P-384", loaded.Options.Authorities["root"].KeyAlgorithm);
        Assert.Equal("P-256", loaded.Options.Authorities["issuing"].KeyAlgorithm);
        Assert.Equal(0, loaded.Options.Authorities["issuing"].PathLength);
        Assert.Equal($"Data Source={Path.Combine(RepositoryPaths.Root, "data", "minica.db")}", loaded.Options.Database.ConnectionString);
    }

    [Fact]
    public void Load_EmptyFile_UsesDefaultsRelativeToTheFilesFolder()
    {
        var file = Write("{}");

        var loaded = MiniCaConfiguration.Load(["--config", file]);

        Assert.Equal(_directory.Combine("data"), loaded.Options.DataDirectory);
        Assert.Equal(_directory.Combine("policies"), loaded.Options.PoliciesDirectory);
        Assert.Equal(["issuing", "root"], loaded.Options.Authorities.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("P-384", loaded.Options.Authorities["root"].KeyAlgorithm);
        Assert.Equal(file, loaded.ConfigFile);
    }

    [Fact]
    public void Load_CommandLineOverride_WinsOverTheFile()
    {
        var file = Write("""{ "PublicBaseUrl": "http://a.example" }""");

        var loaded = MiniCaConfiguration.Load(["--config", file, "--PublicBaseUrl=https://ca.example.com", "--Hsm:MaxSessions=4"]);

        Assert.Equal("https://ca.example.com", loaded.Options.PublicBaseUrl);
        Assert.Equal(4, loaded.Options.Hsm.MaxSessions);
        Assert.Equal(["init"], MiniCaConfiguration.CommandArguments(["init", "--config", file, "--Hsm:MaxSessions=4", "--PublicBaseUrl=https://x"]));
    }

    [Fact]
    public void Load_EnvironmentOverride_WinsOverTheFileAndIsValidated()
    {
        var file = Write("{}");
        Environment.SetEnvironmentVariable("MINICA_Authorities__issuing__KeyAlgorithm", "P-521");
        try
        {
            var error = Fails("--config", file);

            Assert.Equal(CaErrorKind.Configuration, error.Kind);
            Assert.Contains("Authorities:issuing:KeyAlgorithm (set by the environment variable MINICA_Authorities__issuing__KeyAlgorithm): 'P-521' is not one of P-256, P-384, RSA-2048, RSA-3072, RSA-4096", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MINICA_Authorities__issuing__KeyAlgorithm", null);
        }
    }

    [Fact]
    public void Load_ConfigFromEnvironmentVariable_IsUsed()
    {
        var file = Write("""{ "DataDirectory": "elsewhere" }""");
        Environment.SetEnvironmentVariable("MINICA_CONFIG", file);
        try
        {
            Assert.Equal(_directory.Combine("elsewhere"), MiniCaConfiguration.Load([]).Options.DataDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MINICA_CONFIG", null);
        }
    }

    /// <summary>
    /// Mutation fuzzing of ca.config.json (the repository's file with PostgreSQL, a configured HSM, OCSP and ACME
    /// sections added): each mutated file loads, or the start fails with a configuration error that names the file.
    /// Nothing else may escape: the CLI and the web host would print a stack trace instead of the file and field.
    /// </summary>
    [Fact]
    public void Load_MutatedConfigFiles_LoadOrFailNamingTheFile()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "ca.config.json")))!.AsObject();
        var rich = node.DeepClone().AsObject();
        rich["Database"] = System.Text.Json.Nodes.JsonNode.Parse("""{ "Provider": "Postgres", "ConnectionString": "Host=db.internal;Database=minica;Username=minica", "PasswordSource": "env:MINICA_DB_PASSWORD" }""");
        rich["Hsm"] = System.Text.Json.Nodes.JsonNode.Parse("""{ "Members": [ { "Name": "a", "ModulePath": "/usr/lib/softhsm/libsofthsm2.so", "TokenLabel": "ca", "PinSource": "file:/run/secrets/pin" } ], "MaxSessions": 8, "OperationTimeoutSeconds": 30 }""");
        var seeds = new[] { node.ToJsonString(), rich.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) }.Select(System.Text.Encoding.UTF8.GetBytes).ToArray();
        var random = Mutator.Random(2030);
        var failures = new FuzzFailures();
        var (loaded, refused) = (0, 0);
        var rounds = Mutator.RoundsOr(2000);
        for (var round = 0; round < rounds; round++)
        {
            var input = Mutator.Mutate(seeds[random.Next(seeds.Length)], seeds, random, most: 2);
            var file = _directory.Combine("ca.config.json");
            File.WriteAllBytes(file, input);
            failures.Check(input, () =>
            {
                try
                {
                    MiniCaConfiguration.Load(["--config", file]);
                    loaded++;
                }
                catch (CaException ex) when (ex.Kind == CaErrorKind.Configuration)
                {
                    Assert.Contains(file, ex.Message, StringComparison.Ordinal);
                    refused++;
                }
            });
        }

        Assert.True(failures.Summary is null, failures.Summary);
        Assert.True(loaded > 0 && refused > rounds / 4, $"{loaded} loaded, {refused} refused of {rounds}");
    }

    [Fact]
    public void Load_MissingExplicitFile_FailsNamingIt()
    {
        var error = Fails("--config", _directory.Combine("nope.json"));

        Assert.Equal($"Configuration file {_directory.Combine("nope.json")} does not exist.", error.Message);
    }

    [Fact]
    public void Load_InvalidJson_FailsNamingTheFile()
    {
        var file = Write("""{ "DataDirectory": "data", }, """);

        var error = Fails("--config", file);

        Assert.StartsWith($"Configuration file {file} is not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Line 1, position 29.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownKey_FailsNamingFileAndKey()
    {
        var file = Write("""{ "Hsm": { "Memebrs": [] } }""");

        var error = Fails("--config", file);

        Assert.Equal($"Configuration error in {file}: Hsm:Memebrs: unknown key (expected one of CopyableKeys, EmbeddedModulePath, MaxConcurrentSignatures, MaxSessions, Members, OperationTimeoutSeconds, ProbeIntervalSeconds, QuorumApprovals)", error.Message);
    }

    [Fact]
    public void Load_NegativeSignatureLimit_FailsNamingTheKey()
    {
        var file = Write("""{ "Hsm": { "MaxConcurrentSignatures": -1 } }""");

        var error = Fails("--config", file);

        Assert.Equal($"Configuration error in {file}: Hsm:MaxConcurrentSignatures: -1 is out of range (0..1024; 0 = no limit).", error.Message);
    }

    [Fact]
    public void Load_AuditAnchorOptionsOutOfRange_FailNamingEach()
    {
        var file = Write("""{ "Audit": { "AnchorLogMinutes": -5, "AnchorSettledSeconds": 86401, "KeyAlgorithm": "P-192", "CheckHours": 8761 } }""");

        var error = Fails("--config", file);

        Assert.Contains("Audit:AnchorLogMinutes: -5 is out of range (0..1440; 0: no anchors logged).", error.Message, StringComparison.Ordinal);
        Assert.Contains("Audit:AnchorSettledSeconds: 86401 is out of range (0..86400).", error.Message, StringComparison.Ordinal);
        Assert.Contains("Audit:KeyAlgorithm: 'P-192' is not one of P-256, ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Audit:CheckHours: 8761 is out of range (0..8760; 0: at start only).", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BackupOptionsOutOfRange_FailNamingEach()
    {
        var file = Write("""{ "Backup": { "Directory": " ", "IntervalMinutes": 0, "Keep": 1001 } }""");

        var error = Fails("--config", file);

        Assert.Contains("Backup:Directory: is empty; name a folder for scheduled backups, or leave the key out for none.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Backup:IntervalMinutes: 0 is out of range (1..525600).", error.Message, StringComparison.Ordinal);
        Assert.Contains("Backup:Keep: 1001 is out of range (1..1000).", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BackupDirectory_IsResolvedAgainstTheConfigurationsFolder_AndOffByDefault()
    {
        var file = Write("""{ "Backup": { "Directory": "../backups" } }""");

        var loaded = MiniCaConfiguration.Load(["--config", file]);

        Assert.Equal(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", "backups")), loaded.Options.Backup.Directory);
        Assert.Equal(1440, loaded.Options.Backup.IntervalMinutes);
        Assert.Equal(7, loaded.Options.Backup.Keep);
        Assert.Null(MiniCaConfiguration.Load(["--config", Write("{}")]).Options.Backup.Directory);
    }

    [Fact]
    public void Load_BadValueFromTheCommandLine_NamesTheArgumentNotTheFile()
    {
        var file = Write("""{ "Crl": { "NextUpdateHours": 24 }, "Hsm": { "MaxConcurrentSignatures": -1 } }""");

        var error = Fails("--config", file, "--Crl:NextUpdateHours=0");

        // The file's own bad value is the file's; the override's is the command line's.
        Assert.Contains("Hsm:MaxConcurrentSignatures: -1 is out of range", error.Message, StringComparison.Ordinal);
        Assert.Contains("Crl:NextUpdateHours (set by the command-line argument --Crl:NextUpdateHours): 0 is out of range (1..8760)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignatureConcurrency_DefaultsToTheCoresForTheEmbeddedTokenOnly()
    {
        var embedded = new HsmOptions();
        var members = new HsmOptions { Members = [new HsmMemberOptions { Name = "a" }] };

        Assert.Equal(Environment.ProcessorCount, embedded.SignatureConcurrency);
        Assert.Equal(0, members.SignatureConcurrency);
        Assert.Equal(3, new HsmOptions { MaxConcurrentSignatures = 3 }.SignatureConcurrency);
        Assert.Equal(0, new HsmOptions { MaxConcurrentSignatures = 0 }.SignatureConcurrency);
    }

    [Fact]
    public void Load_HostSections_AreAllowed()
    {
        var file = Write("""{ "Logging": { "LogLevel": { "Default": "Warning" } }, "AllowedHosts": "*" }""");

        Assert.NotNull(MiniCaConfiguration.Load(["--config", file]));
    }

    [Fact]
    public void Load_ValueOfWrongType_FailsNamingTheKey()
    {
        var file = Write("""{ "Hsm": { "MaxSessions": "many" } }""");

        var error = Fails("--config", file);

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
        Assert.Contains("Hsm:MaxSessions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PinWrittenInTheFile_IsRefused()
    {
        var file = Write("""
            { "Hsm": { "Members": [ { "Name": "a", "ModulePath": "/usr/lib/x.so", "TokenLabel": "T", "PinSource": "123456" } ] } }
            """);

        var error = Fails("--config", file);

        Assert.Contains("Hsm:Members:0:PinSource: must be 'env:NAME' or 'file:PATH'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("123456", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Provider": "Postgres" }""", "Database:ConnectionString: required with Provider 'Postgres'")]
    [InlineData("""{ "Provider": "Postgres", "ConnectionString": "Host=db;Database=minica;Username=ca;Password=hunter2" }""", "Database:ConnectionString: holds a password; a secret is never in the configuration")]
    [InlineData("""{ "Provider": "Postgres", "ConnectionString": "Host=db;Username=ca; pwd =hunter2" }""", "Database:ConnectionString: holds a password")]
    [InlineData("""{ "Provider": "Postgres", "ConnectionString": "Host=db;Username=ca", "PasswordSource": "hunter2" }""", "Database:PasswordSource: 'hunter2' must be 'env:NAME' or 'file:PATH'")]
    [InlineData("""{ "PasswordSource": "env:DB_PASSWORD" }""", "Database:PasswordSource: only for Provider 'Postgres'")]
    [InlineData("""{ "Provider": "Postgres", "ConnectionString": "Hots=db;Database=minica" }""", "Database:ConnectionString: not an Npgsql connection string")]
    public void Load_BadDatabaseSection_IsRefusedNamingTheField(string section, string expected)
    {
        var file = Write($$"""{ "Database": {{section}} }""");

        var error = Fails("--config", file);

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password=hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PostgresWithPasswordSource_IsAccepted()
    {
        var file = Write("""{ "Database": { "Provider": "postgres", "ConnectionString": "Host=db.internal;Database=minica;Username=minica", "PasswordSource": "env:MINICA_DB_PASSWORD" } }""");

        var options = MiniCaConfiguration.Load(["--config", file]).Options;

        Assert.True(options.Database.IsPostgres);
        Assert.Equal("Host=db.internal;Database=minica;Username=minica", options.Database.ConnectionString);
    }

    [Fact]
    public void Load_SeveralProblems_AreAllReportedAtOnce()
    {
        var file = Write("""
            {
              "PublicBaseUrl": "ftp://x",
              "Database": { "Provider": "Oracle" },
              "Hsm": { "Members": [ { "Name": "a", "ModulePath": "relative.so", "PinSource": "env:X" }, { "Name": "a", "ModulePath": "/x.so", "TokenLabel": "L", "TokenSerial": "S", "PinSource": "file:p" } ] },
              "Authorities": {
                "Root CA": { "Subject": "not a dn", "KeyAlgorithm": "P-256", "ValidityDays": 0 },
                "sub": { "Subject": "CN=Sub", "Issuer": "missing", "SignatureAlgorithm": "RsaPkcs1Sha256", "KeyAlgorithm": "P-256", "PathLength": -1 }
              }
            }
            """);

        var message = Fails("--config", file).Message;

        foreach (var expected in new[]
        {
            "PublicBaseUrl: 'ftp://x' is not an absolute http(s) URL",
            "Database:Provider: 'Oracle' is not a provider",
            "Hsm:Members:0:ModulePath: must be the absolute path",
            "Hsm:Members:0: give exactly one of TokenLabel and TokenSerial.",
            "Hsm:Members:1:Name: 'a' is used by another member.",
            "Hsm:Members:1: give exactly one of TokenLabel and TokenSerial.",
            "Authorities:Root CA: the name must be",
            "Authorities:Root CA:Subject: 'not a dn' is not a distinguished name",
            "Authorities:Root CA:ValidityDays: 0 is out of range",
            "Authorities:sub:Issuer: 'missing' is not an authority in this file.",
            "Authorities:sub:SignatureAlgorithm: RsaPkcs1Sha256 cannot be made with a P-256 key.",
            "Authorities:sub:PathLength: must be 0 or more",
        })
        {
            Assert.Contains(expected, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Load_AuthorityCertificatePolicies_AreCheckedNamingEachKey()
    {
        var file = Write("""
            { "Authorities": {
                "root": { "Subject": "CN=R", "CertificatePolicies": [ { "Oid": "anyPolicy" } ] },
                "issuing": { "Subject": "CN=I", "Issuer": "root", "CertificatePolicies": [
                  { "Oid": "anyPolicy" }, { "Oid": "1.3.6.1.4.1.55555.1.1", "Cps": "ldap://pki.example.com/cps" }, { "Oid": "1.2.3.x" }, { "Oid": "1.3.6.1.4.1.55555.1.1" } ] },
                "second": { "Subject": "CN=S", "Issuer": "root", "CertificatePolicies": [ "1.3.6.1.4.1.55555.1.1" ] },
                "third": { "Subject": "CN=T", "Issuer": "root", "CertificatePolicies": [] } } }
            """);

        var message = Fails("--config", file).Message;

        Assert.Contains("Authorities:second:CertificatePolicies:0: expected an object (with Cps, Notice, Oid), not a single value", message, StringComparison.Ordinal);

        // The binder's shape is right for the others: each problem is named by its key.
        File.WriteAllText(file, File.ReadAllText(file).Replace("[ \"1.3.6.1.4.1.55555.1.1\" ]", "[ { \"Oid\": \"1.3.6.1.4.1.55555.1.1\" } ]", StringComparison.Ordinal));
        message = Fails("--config", file).Message;

        Assert.Contains("Authorities:root:CertificatePolicies: a root's are not processed by relying parties (RFC 5280 §6.1 does not process a trust anchor's extensions); put them on the subordinate CA that issues.", message, StringComparison.Ordinal);
        Assert.Contains("Authorities:issuing:CertificatePolicies:1:Cps: 'ldap://pki.example.com/cps' is not an http or https URL (BR §7.1.2.7.9).", message, StringComparison.Ordinal);
        Assert.Contains("Authorities:issuing:CertificatePolicies:2:Oid: '1.2.3.x' is not a dotted OID such as 1.3.6.1.4.1.55555.1.1 (or anyPolicy).", message, StringComparison.Ordinal);
        Assert.Contains("Authorities:issuing:CertificatePolicies:3:Oid: 1.3.6.1.4.1.55555.1.1 is listed twice; a policy appears at most once (RFC 5280 §4.2.1.4).", message, StringComparison.Ordinal);
        // An empty list is none, as if the key were left out.
        Assert.DoesNotContain("Authorities:third:", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Authorities:second:", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Authorities:issuing:CertificatePolicies:0", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_IssuerCycle_IsRefused()
    {
        var file = Write("""
            { "Authorities": {
                "root": { "Subject": "CN=R" },
                "a": { "Subject": "CN=A", "Issuer": "b" },
                "b": { "Subject": "CN=B", "Issuer": "a" } } }
            """);

        var message = Fails("--config", file).Message;

        Assert.Contains("Authorities:a:Issuer: the chain of issuers loops back to 'a'.", message, StringComparison.Ordinal);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "process environment";
}
