using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Errors;
using MiniCa.Core.Ledger;
using MiniCa.Core.Profiles;
using MiniCa.Core.Signing;
using MiniCa.Data;
using MiniCa.Data.Queries;
using MiniCa.Hsm;
using Org.BouncyCastle.Asn1.X509;

namespace MiniCa.Hosting;

/// <summary>One part of a backup as <see cref="CaBackupCheck"/> found it.</summary>
/// <param name="Part">What was checked: <c>Files</c>, <c>Configuration</c>, <c>Database</c>, <c>Keys</c>, <c>Audit log</c>.</param>
/// <param name="Passed">Whether it is as a CA started on the backup needs it.</param>
/// <param name="Detail">What was found, in a sentence or two.</param>
public sealed record BackupCheckItem(string Part, bool Passed, string Detail);

/// <summary>What <see cref="CaBackupCheck.RunAsync"/> is asked besides the backup.</summary>
/// <param name="Anchors">Anchors of the audit log kept elsewhere: the backup's log must still hash to each.</param>
/// <param name="RestoreInto">For a PostgreSQL backup: an empty database on the CA's server (same user and password) to restore the dump into and check there; <see langword="null"/> to read the dump back only.</param>
public sealed record BackupCheckOptions(IReadOnlyCollection<AuditAnchor> Anchors, string? RestoreInto = null);

/// <summary>What <see cref="CaBackupCheck.RunAsync"/> found.</summary>
/// <param name="Directory">The backup checked.</param>
/// <param name="Manifest">Its manifest.</param>
/// <param name="Items">Each part, in the order checked.</param>
public sealed record BackupCheckReport(string Directory, BackupManifest Manifest, IReadOnlyList<BackupCheckItem> Items)
{
    /// <summary>Whether every part passed.</summary>
    public bool Passed => Items.All(i => i.Passed);
}

/// <summary>
/// <c>minica backup verify</c>: whether a backup would bring the CA back, checked without starting it and without
/// changing the backup. Every file against the manifest's SHA-256; then, on a scratch copy, what a start on the backup
/// does: its configuration and profiles load, its SQLite database passes the integrity check, records what the
/// manifest says and is brought up to this version's schema (a PostgreSQL dump is read back with pg_restore, and
/// restored into an empty database of the CA's server and checked the same way when one is named), each
/// authority's key is in the HSM with its certificate's public key (the embedded token opened with the backup's PIN
/// and made to sign a challenge), and the audit log holds against its signed anchors and any anchor kept elsewhere.
/// </summary>
public static class CaBackupCheck
{
    /// <summary>What the challenge signed with each CA key starts with: not a DER SEQUENCE's tag, so never a certificate, CRL or OCSP response.</summary>
    private static readonly byte[] ChallengePrefix = "MiniCa backup check v1\0"u8.ToArray();

    /// <summary>Checks the backup in <paramref name="directory"/>.</summary>
    /// <exception cref="CaException">The folder does not exist or holds no readable manifest.</exception>
    public static async Task<BackupCheckReport> RunAsync(string directory, BackupCheckOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(options);
        directory = Path.GetFullPath(directory);
        if (!Directory.Exists(directory))
        {
            throw new CaException(CaErrorKind.NotFound, $"{directory} does not exist.");
        }

        var manifest = BackupManifest.Read(directory);
        if (options.RestoreInto is not null && manifest.Database.Provider != "Postgres")
        {
            throw new CaException(CaErrorKind.InvalidState, $"--restore-into is for a backup of a CA on PostgreSQL; the backup in {directory} holds a SQLite database, checked as it is.");
        }

        var items = new List<BackupCheckItem> { CheckFiles(directory, manifest) };
        // The CA is started on a copy (0700 folders, 0600 files, removed at the end): SQLite and the embedded token
        // write to their files when opened.
        var scratch = Path.Combine(Path.GetTempPath(), "minica-backup-check-" + Guid.NewGuid().ToString("N"));
        try
        {
            CaBackup.CopyPrivateTree(directory, scratch);
            await CheckCopyAsync(scratch, manifest, options, items, cancellationToken);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        return new BackupCheckReport(directory, manifest, items);
    }

    /// <summary>Every file the manifest lists is there with its size and SHA-256, and no other file is.</summary>
    private static BackupCheckItem CheckFiles(string directory, BackupManifest manifest)
    {
        var problems = new List<string>();
        foreach (var file in manifest.Files)
        {
            if (!File.Exists(Path.Combine(directory, file.Path)))
            {
                problems.Add($"{file.Path} is missing");
                continue;
            }

            var found = BackupManifest.DescribeFile(directory, file.Path);
            if (found.Bytes != file.Bytes)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{file.Path} has {found.Bytes} bytes, not {file.Bytes}"));
            }
            else if (found.Sha256 != file.Sha256)
            {
                problems.Add($"{file.Path} has changed (SHA-256 {found.Sha256}, not {file.Sha256})");
            }
        }

        var listed = manifest.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(file => BackupManifest.RelativePath(directory, file))
            .Where(path => path != BackupManifest.FileName && !listed.Contains(path))
            .Order(StringComparer.Ordinal)
            .Select(path => $"{path} is not in the manifest"));
        if (problems.Count == 0)
        {
            return new BackupCheckItem("Files", true, string.Create(CultureInfo.InvariantCulture,
                $"{manifest.Files.Count} files ({manifest.Files.Sum(f => f.Bytes):N0} bytes), each of the size and SHA-256 the manifest gives; none missing, none added."));
        }

        var more = problems.Count > 5 ? string.Create(CultureInfo.InvariantCulture, $"; and {problems.Count - 5} more") : string.Empty;
        return new BackupCheckItem("Files", false, string.Join("; ", problems.Take(5)) + more + ".");
    }

    private static async Task CheckCopyAsync(string scratch, BackupManifest manifest, BackupCheckOptions options, List<BackupCheckItem> items, CancellationToken cancellationToken)
    {
        var sqlite = manifest.Database.Provider == "Sqlite";
        var database = Path.Combine(scratch, manifest.Database.File);
        // The copy's own parts, wherever the configuration had them: its paths outside its folder were copied inside.
        var overrides = new List<string>
        {
            "--DataDirectory=" + Path.Combine(scratch, manifest.DataDirectory),
            "--PoliciesDirectory=" + Path.Combine(scratch, manifest.PoliciesDirectory),
        };
        if (sqlite)
        {
            overrides.Add("--Database:ConnectionString=" + new SqliteConnectionStringBuilder { DataSource = database });
        }

        var lists = manifest.BlockedKeyLists ?? [];
        for (var i = 0; i < lists.Count; i++)
        {
            overrides.Add($"--BlockedKeyLists:{i}=" + Path.Combine(scratch, lists[i].File));
        }

        LoadedConfiguration loaded;
        ProfileCatalog profiles;
        MiniCa.Core.Requests.BlockedKeyLists blocked;
        var services = new ServiceCollection();
        services.AddLogging();
        try
        {
            loaded = MiniCaConfiguration.LoadFrom(manifest.ConfigurationFile is { } file ? Path.Combine(scratch, file) : null, scratch, overrides);
            if (loaded.Options.Database.IsPostgres == sqlite)
            {
                throw new CaException(CaErrorKind.Configuration, $"the configuration names the provider {loaded.Options.Database.Provider}, but the backup's database is {manifest.Database.Provider}");
            }

            if (loaded.Options.Hsm.IsEmbedded != manifest.EmbeddedHsm)
            {
                throw new CaException(CaErrorKind.Configuration, manifest.EmbeddedHsm
                    ? "the configuration names an HSM, but the backup holds the embedded token store"
                    : "the configuration has the embedded HSM, but the backup was made with a configured one and holds no token store");
            }

            if (options.RestoreInto is { } name)
            {
                // The same server and user as the CA's, another database: the CA's own is never touched.
                loaded.Options.Database.ConnectionString = new Npgsql.NpgsqlConnectionStringBuilder(loaded.Options.Database.ConnectionString) { Database = name }.ConnectionString;
            }

            services.AddMiniCa(loaded);
            profiles = ProfileLoader.LoadDirectory(loaded.Options.PoliciesDirectory);
            // A backup made before the lists were copied records none; its configuration's lists are the original's files.
            if (manifest.BlockedKeyLists is not null && loaded.Options.BlockedKeyLists.Count != lists.Count)
            {
                throw new CaException(CaErrorKind.Configuration, $"the configuration names {loaded.Options.BlockedKeyLists.Count} blocked key list(s), the backup holds {lists.Count}");
            }

            blocked = MiniCa.Core.Requests.BlockedKeyLists.Load(lists.Select(l => Path.Combine(scratch, l.File)).ToList());
        }
        catch (CaException ex)
        {
            items.Add(new BackupCheckItem("Configuration", false, ex.Message));
            return;
        }

        items.Add(new BackupCheckItem("Configuration", true,
            $"{manifest.ConfigurationFile ?? "the built-in defaults"} loads, with the profiles {string.Join(", ", profiles.All.Select(p => p.Name).Order(StringComparer.Ordinal))}"
            + (lists.Count == 0 ? "." : string.Create(CultureInfo.InvariantCulture, $" and {blocked.Count:N0} blocked RSA keys from {string.Join(", ", lists.Select(l => l.File))}."))));

        await using var provider = services.BuildServiceProvider();
        var rows = sqlite || options.RestoreInto is not null;
        var databaseReady = sqlite
            ? await CheckSqliteAsync(provider, database, manifest, items, cancellationToken)
            : await CheckDumpAsync(loaded, database, manifest, options.RestoreInto, provider, items, cancellationToken);
        CheckKeys(provider, manifest, items);
        if (!rows)
        {
            return;
        }

        if (!databaseReady)
        {
            items.Add(new BackupCheckItem("Audit log", false, "not checked: the database failed."));
            return;
        }

        await CheckAuditLogAsync(provider, manifest, options.Anchors, items, cancellationToken);
    }

    /// <summary>The SQLite copy passes the integrity check, records what the manifest says, and is brought up to this version's schema.</summary>
    private static async Task<bool> CheckSqliteAsync(ServiceProvider provider, string database, BackupManifest manifest, List<BackupCheckItem> items, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
            await connection.OpenAsync(cancellationToken);
            if (await CaBackup.IntegrityProblemAsync(connection, cancellationToken) is { } integrity)
            {
                items.Add(new BackupCheckItem("Database", false, $"{manifest.Database.File} fails SQLite's integrity check: {integrity}"));
                return false;
            }
        }
        catch (SqliteException ex)
        {
            items.Add(new BackupCheckItem("Database", false, $"{manifest.Database.File} cannot be read as a MiniCa database: {ex.Message}"));
            return false;
        }

        return await CheckRowsAsync(provider, manifest, $"{manifest.Database.File} passes SQLite's integrity check and", items, cancellationToken);
    }

    /// <summary>
    /// The database the provider's context opens (the SQLite copy, or the dump restored) records what the manifest
    /// says and is brought up to this version's schema, as a start on it would.
    /// </summary>
    private static async Task<bool> CheckRowsAsync(ServiceProvider provider, BackupManifest manifest, string opening, List<BackupCheckItem> items, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var contexts = provider.GetRequiredService<IDbContextFactory<MiniCaDbContext>>();
        int pending;
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await db.Database.OpenConnectionAsync(cancellationToken);
            var connection = db.Database.GetDbConnection();
            var (authorities, certificates) = await BackupQueries.CountsAsync(connection, null, cancellationToken);
            if (authorities != manifest.Database.Authorities || certificates != manifest.Database.Certificates)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"it records {authorities} authorities and {certificates} certificates, the manifest {manifest.Database.Authorities} and {manifest.Database.Certificates}"));
            }

            if (!SameAuthorities(await BackupQueries.ActiveAuthoritiesAsync(connection, null, cancellationToken), manifest.Authorities))
            {
                problems.Add("its active authorities are not the manifest's");
            }

            var known = db.Database.GetMigrations().ToHashSet(StringComparer.Ordinal);
            var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).ToList();
            if (applied.FirstOrDefault(m => !known.Contains(m)) is { } newer)
            {
                items.Add(new BackupCheckItem("Database", false, $"{manifest.Database.File} was made by a newer MiniCa (its migration {newer} is not one this version knows): check it with that version."));
                return false;
            }

            pending = known.Count(m => !applied.Contains(m));
        }
        catch (DbException ex)
        {
            items.Add(new BackupCheckItem("Database", false, $"{manifest.Database.File} cannot be read as a MiniCa database: {ex.Message}"));
            return false;
        }

        // What a start on the backup does first: the schema brought up to this version's (on the copy only).
        try
        {
            await provider.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        }
        catch (CaException ex)
        {
            items.Add(new BackupCheckItem("Database", false, ex.Message));
            return false;
        }

        var schema = pending == 0
            ? "its schema is this version's"
            : string.Create(CultureInfo.InvariantCulture, $"its schema took this version's {pending} newer migration(s), as a start on it does");
        items.Add(problems.Count == 0
            ? new BackupCheckItem("Database", true, string.Create(CultureInfo.InvariantCulture,
                $"{opening} records {manifest.Database.Authorities} authorities and {manifest.Database.Certificates:N0} certificates, as the manifest says; {schema}."))
            : new BackupCheckItem("Database", false, $"{manifest.Database.File}: {string.Join("; ", problems)}."));
        return problems.Count == 0;
    }

    private static bool SameAuthorities(IReadOnlyList<RecordedAuthority> recorded, IReadOnlyList<RecordedAuthority> listed) =>
        recorded.Count == listed.Count
        && recorded.Zip(listed).All(p => p.First.Name == p.Second.Name && p.First.SerialHex == p.Second.SerialHex
            && p.First.KeyUri == p.Second.KeyUri && p.First.CertificateDer.AsSpan().SequenceEqual(p.Second.CertificateDer));

    /// <summary>
    /// A PostgreSQL dump is read back with pg_restore; with <paramref name="restoreInto"/> it is restored into that
    /// empty database of the CA's server and its rows are checked there (the database is left restored).
    /// </summary>
    private static async Task<bool> CheckDumpAsync(LoadedConfiguration loaded, string dump, BackupManifest manifest, string? restoreInto, ServiceProvider provider, List<BackupCheckItem> items, CancellationToken cancellationToken)
    {
        try
        {
            MiniCa.Data.Postgres.PostgresDump.RequireTools();
            await MiniCa.Data.Postgres.PostgresDump.CheckListAsync(dump, cancellationToken);
            if (restoreInto is not null)
            {
                var password = loaded.Options.Database.PasswordSource is { } source ? PinSource.Resolve(source, loaded.BaseDirectory, "Database:PasswordSource") : null;
                await MiniCa.Data.Postgres.PostgresDump.RestoreAsync(loaded.Options.Database.ConnectionString!, password, dump, cancellationToken);
            }
        }
        catch (CaException ex)
        {
            items.Add(new BackupCheckItem("Database", false, ex.Message));
            return false;
        }

        if (restoreInto is not null)
        {
            return await CheckRowsAsync(provider, manifest, $"{manifest.Database.File} reads back with pg_restore --list and, restored into the database {restoreInto} (left there: start a CA on it, or drop it),", items, cancellationToken);
        }

        items.Add(new BackupCheckItem("Database", true, string.Create(CultureInfo.InvariantCulture,
            $"{manifest.Database.File} reads back with pg_restore --list, with the Certificates table's data; it recorded {manifest.Database.Authorities} authorities and {manifest.Database.Certificates:N0} certificates when made. Its rows and audit log are checked when it is restored: --restore-into NAME, an empty database on the CA's server.")));
        return true;
    }

    /// <summary>
    /// Each authority's key is in the HSM with its certificate's public key. The embedded token (the backup's copy,
    /// opened with the backup's PIN) also signs a challenge with each, verified with the certificate; a configured
    /// HSM's keys are only compared, never used, since they are the live CA's.
    /// </summary>
    private static void CheckKeys(ServiceProvider provider, BackupManifest manifest, List<BackupCheckItem> items)
    {
        if (manifest.Authorities.Count == 0)
        {
            items.Add(new BackupCheckItem("Keys", false, "the backup records no authority with a certificate: it is not of an initialised CA."));
            return;
        }

        var found = new List<string>();
        var problems = new List<string>();
        try
        {
            var hsm = provider.GetRequiredService<HsmCluster>();
            var authorities = new List<(RecordedAuthority Authority, SubjectPublicKeyInfo Key, string Label)>();
            foreach (var authority in manifest.Authorities)
            {
                if (ReadKey(authority.CertificateDer) is not { } key)
                {
                    problems.Add($"authority '{authority.Name}': its certificate cannot be read");
                    continue;
                }

                hsm.AnchorKey(authority.KeyUri, key.GetDerEncoded());
                authorities.Add((authority, key, Pkcs11KeyStore.LogicalName(authority.KeyUri)));
            }

            var drift = ClusterSync.Report(hsm, authorities.Select(a => a.Label).ToList());
            var keys = provider.GetRequiredService<IKeyManager>();
            foreach (var (authority, key, label) in authorities)
            {
                var states = drift.Where(d => d.Label == label).ToList();
                var holding = states.Where(d => d.State == "ok").Select(d => d.Member).ToList();
                if (holding.Count == 0)
                {
                    problems.Add($"authority '{authority.Name}' (serial {authority.SerialHex}): " + string.Join("; ", states.Select(Drift)));
                }
                else if (manifest.EmbeddedHsm)
                {
                    var (signs, outcome) = SignChallenge(keys, authority, key, label);
                    (signs ? found : problems).Add(outcome);
                }
                else
                {
                    found.Add($"key '{label}' of authority '{authority.Name}' is on {string.Join(", ", holding)} with its certificate's public key");
                }
            }
        }
        catch (CaException ex)
        {
            problems.Add(Clause(ex.Message));
        }

        var where = manifest.EmbeddedHsm ? "the backup's embedded token, opened with its PIN" : "the configured HSM (its keys are not in the backup)";
        items.Add(problems.Count == 0
            ? new BackupCheckItem("Keys", true, $"in {where}: {string.Join("; ", found)}.")
            : new BackupCheckItem("Keys", false, $"in {where}: {string.Join("; ", problems)}."));
    }

    /// <summary>Why a member cannot sign for a key: missing, another key, or the member unreachable.</summary>
    private static string Drift(KeyDrift drift) => drift.State switch
    {
        "different" => $"the key '{drift.Label}' on {drift.Member} is another key than its certificate's",
        "missing" => $"{drift.Member} does not hold the key '{drift.Label}' ({Clause(drift.Detail)})",
        _ => $"{drift.Member} is unreachable ({Clause(drift.Detail)})",
    };

    /// <summary>A message as a clause of a longer sentence: without its full stop.</summary>
    private static string Clause(string message) => message.TrimEnd().TrimEnd('.');

    /// <summary>The certificate's public key, or <see langword="null"/> when the bytes are no certificate.</summary>
    private static SubjectPublicKeyInfo? ReadKey(byte[] certificate)
    {
        try
        {
            return new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(certificate)?.CertificateStructure.SubjectPublicKeyInfo;
        }
        catch (Exception ex) when (ex is Org.BouncyCastle.Security.Certificates.CertificateException or IOException or ArgumentException or InvalidCastException)
        {
            return null;
        }
    }

    /// <summary>Signs a random challenge with the authority's key and verifies it with its certificate's public key.</summary>
    private static (bool Signs, string Outcome) SignChallenge(IKeyManager keys, RecordedAuthority authority, SubjectPublicKeyInfo key, string label)
    {
        try
        {
            var signer = keys.GetSigner(authority.KeyUri);
            var algorithm = SignatureAlgorithms.DefaultFor(signer.Algorithm);
            byte[] challenge = [.. ChallengePrefix, .. RandomNumberGenerator.GetBytes(32)];
            var signature = signer.Sign(algorithm, challenge);
            using var verifier = PlatformSignatures.CreateKey(key);
            return PlatformSignatures.Verify(verifier, algorithm, challenge, signature)
                ? (true, $"key '{label}' of authority '{authority.Name}' signs, verified with its certificate ({algorithm})")
                : (false, $"authority '{authority.Name}' (serial {authority.SerialHex}): the signature of key '{label}' does not verify with its certificate");
        }
        catch (CaException ex)
        {
            return (false, $"authority '{authority.Name}' (serial {authority.SerialHex}): {Clause(ex.Message)}");
        }
    }

    /// <summary>The copy's audit log holds against its signed anchors (checked with the backup's audit key) and the anchors given.</summary>
    private static async Task CheckAuditLogAsync(ServiceProvider provider, BackupManifest manifest, IReadOnlyCollection<AuditAnchor> anchors, List<BackupCheckItem> items, CancellationToken cancellationToken)
    {
        var check = await provider.GetRequiredService<AuditLogIntegrity>().CheckAsync(anchors, manifest.CreatedAt, cancellationToken: cancellationToken);
        if (check.GivenAnchors.FirstOrDefault(c => !c.Holds) is { } broken)
        {
            items.Add(new BackupCheckItem("Audit log", false, $"it does not match anchor {broken.Anchor}: {broken.Problem}."));
            return;
        }

        if (check.SignedAnchors.FirstOrDefault(c => !c.Holds) is { } unsigned)
        {
            items.Add(new BackupCheckItem("Audit log", false, string.Create(CultureInfo.InvariantCulture,
                $"it does not match the signed anchor in event {unsigned.EventId}: {unsigned.Problem} ({check.SignedAnchors.Count(c => !c.Holds)} of {check.SignedAnchors.Count} signed anchors fail).")));
            return;
        }

        if (check.KeyRotations.FirstOrDefault(c => !c.Holds) is { } rotation)
        {
            items.Add(new BackupCheckItem("Audit log", false, string.Create(CultureInfo.InvariantCulture, $"the audit key rotation recorded in event {rotation.EventId} does not hold: {rotation.Problem}.")));
            return;
        }

        var given = anchors.Count == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; the {anchors.Count} anchor(s) given hold");
        var signed = check.NewestSigned is { Anchor: { } newest }
            ? string.Create(CultureInfo.InvariantCulture, $"{check.SignedAnchors.Count} signed anchor(s) hold ({(check.SigningKeys == 1 ? "audit key" : $"{check.SigningKeys} audit keys, the newest")} SHA-256 {newest.KeySha256}; the newest covers it up to event {newest.Anchor.EventId})")
            : "no signed anchor in it yet";
        var head = check.Chain.Head is { } anchor ? $"; its head is {anchor}" : string.Empty;
        items.Add(new BackupCheckItem("Audit log", true, string.Create(CultureInfo.InvariantCulture, $"{check.Chain.Events:N0} events chained; {signed}{given}{head}.")));
    }
}
