using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MiniCa.Authority;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;
using MiniCa.Core.Issuance;
using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.Data;
using MiniCa.Hsm;

namespace MiniCa.Hosting;

/// <summary>
/// What both hosts do before serving: create the data directory, migrate the database and, when asked, run the
/// key ceremony and publish the CA certificates as files. Resolving it opens the HSM (and provisions the embedded
/// token on first use), so HSM problems surface before anything is served.
/// </summary>
public sealed class CaBootstrapper(
    CaOptions options,
    IDbContextFactory<MiniCaDbContext> contexts,
    IAuthorityStore authorities,
    ProfileCatalog profiles,
    BlockedKeyLists blockedKeys,
    HsmCluster hsm,
    KeyCeremony ceremony,
    ILogger<CaBootstrapper> logger)
{
    /// <summary>SQLITE_FULL: a write found the disk full.</summary>
    private const int SqliteFull = 13;

    /// <summary>SQLITE_IOERR: a read or write failed (on a full disk, creating the write-ahead log fails so).</summary>
    private const int SqliteIoError = 10;

    /// <summary>The folder the CA certificates are written to.</summary>
    public string CertificateDirectory => Path.Combine(options.DataDirectory, "ca");

    /// <summary>Creates the data directory (0700) and brings the database schema up to date.</summary>
    public async Task PrepareDatabaseAsync(CancellationToken cancellationToken = default)
    {
        EmbeddedSoftHsm.CreatePrivateDirectory(options.DataDirectory);
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            try
            {
                // On PostgreSQL, processes sharing the database migrate one at a time (HoldMigrationLockAsync says why).
                await using (db.IsPostgres ? await MiniCa.Data.Postgres.PostgresDatabase.HoldMigrationLockAsync(db, cancellationToken) : null)
                {
                    // Migrate builds the design-time model to look for unmigrated model changes (0.5 s of every start
                    // here, compiled model or not); whether a migration is pending needs only the history table.
                    if ((await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
                    {
                        await db.Database.MigrateAsync(cancellationToken);
                    }
                }

                if (db.Database.IsSqlite())
                {
                    // Write-ahead log (persistent in the file): with synchronous=FULL every commit is still on disk
                    // when it returns, but it costs one fsync of the log instead of the rollback journal's several, and
                    // readers (OCSP, the portal) never wait for a writer. Local disks only, as SQLite documents.
                    await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
                }
            }
            catch (DbException ex)
            {
                // A file that is not a database, a read-only or full disk: one line naming the database, not a stack trace.
                var database = db.Database.IsSqlite() ? $"The issuance database {new SqliteConnectionStringBuilder(options.Database.ConnectionString).DataSource}" : "The PostgreSQL issuance database";
                var advice = ex is SqliteException { SqliteErrorCode: SqliteFull or SqliteIoError }
                    ? "The disk that holds it is full, read-only or failing: free space (the database needs room to grow and for its write-ahead log) and start again."
                    : db.Database.IsSqlite() ? "Check Database:ConnectionString; a SQLite file must be a MiniCa database, or absent to be created."
                    : "Check Database:ConnectionString and that the server answers and the database is MiniCa's.";
                throw new CaException(
                    CaErrorKind.Configuration,
                    $"{database} cannot be opened and brought up to date: {ex.Message.TrimEnd('.')}. {advice}",
                    ex);
            }
        }

        if (await SearchIndex.BackfillAsync(contexts, cancellationToken) is > 0 and var indexed)
        {
            logger.LogInformation("Indexed the names of {Count} existing requests for search", indexed);
        }
    }

    /// <summary>Whether every configured authority has an active certificate.</summary>
    public async Task<bool> IsInitializedAsync(CancellationToken cancellationToken = default)
    {
        var recorded = await authorities.ListAsync(cancellationToken);
        return options.Authorities.Keys.All(name => recorded.Any(a => a.Name == name && a.Status == AuthorityStatus.Active));
    }

    /// <summary>Runs the key ceremony and writes the CA certificates; refuses when the CA exists.</summary>
    public async Task<IReadOnlyList<AuthorityCertificate>> InitializeAsync(CancellationToken cancellationToken = default)
    {
        await PrepareDatabaseAsync(cancellationToken);
        await using var turn = await CeremonyTurnAsync(cancellationToken);
        return await RunCeremonyAsync(cancellationToken);
    }

    /// <summary>
    /// One key ceremony at a time on a data directory and, on PostgreSQL, on the database: a second <c>init</c> (or a
    /// first start beside it, or an <c>init</c> on another machine sharing the database and the HSM) waits, then finds
    /// the CA made, instead of generating keys under the same labels at the same time.
    /// </summary>
    private async Task<IAsyncDisposable> CeremonyTurnAsync(CancellationToken cancellationToken)
    {
        var file = ExclusiveFileLock.Acquire(Path.Combine(options.DataDirectory, ".ceremony.lock"), "the key ceremony", CeremonyWait);
        if (!options.Database.IsPostgres)
        {
            return new CeremonyTurn(file, null, null);
        }

        // Processes on other machines may share this database and the HSM: the database's lock too.
        var db = await contexts.CreateDbContextAsync(cancellationToken);
        try
        {
            var held = await MiniCa.Data.Postgres.PostgresDatabase.HoldCeremonyLockAsync(
                db, CeremonyWait, () => logger.LogWarning("Another process sharing the database is running the key ceremony; waiting for it to finish (up to {Minutes} minutes)", CeremonyWait.TotalMinutes), cancellationToken);
            return held is not null
                ? new CeremonyTurn(file, held, db)
                : throw new CaException(CaErrorKind.InvalidState, $"Another process sharing the database has held the key ceremony for {CeremonyWait.TotalMinutes:0} minutes; try again when it has finished.");
        }
        catch
        {
            await db.DisposeAsync();
            file.Dispose();
            throw;
        }
    }

    /// <summary>How long a ceremony waits for another one.</summary>
    private static readonly TimeSpan CeremonyWait = TimeSpan.FromMinutes(10);

    private sealed class CeremonyTurn(IDisposable file, IAsyncDisposable? database, MiniCaDbContext? db) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (database is not null)
                {
                    await database.DisposeAsync();
                }
            }
            finally
            {
                if (db is not null)
                {
                    await db.DisposeAsync();
                }

                file.Dispose();
            }
        }
    }

    private async Task<IReadOnlyList<AuthorityCertificate>> RunCeremonyAsync(CancellationToken cancellationToken)
    {
        var created = await ceremony.RunAsync(options, cancellationToken);
        await WriteCertificateFilesAsync(created, cancellationToken);
        return created;
    }

    /// <summary>
    /// Prepares everything a server needs. With the embedded HSM a missing CA is created (first start); with a
    /// configured HSM it must have been created by <c>minica init</c>, since MiniCa never initialises an HSM it
    /// was pointed at.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await PrepareDatabaseAsync(cancellationToken);
        logger.LogInformation("Certificate profiles: {Profiles}", string.Join(", ", profiles.All.Select(p => p.Name).Order(StringComparer.Ordinal)));
        if (blockedKeys.Files.Count > 0)
        {
            logger.LogInformation("Blocked key lists: {Keys} RSA keys refused, from {Files}", blockedKeys.Count, string.Join(", ", blockedKeys.Files));
        }

        foreach (var member in hsm.GetStatus())
        {
            logger.LogInformation(
                "HSM member {Member}: {State}, token '{Token}' (serial {Serial}) in {Module}",
                member.Name, member.State, member.TokenLabel, member.TokenSerial, member.ModulePath);
        }

        if (!await IsInitializedAsync(cancellationToken))
        {
            if (!options.Hsm.IsEmbedded)
            {
                throw new CaException(
                    CaErrorKind.InvalidState,
                    "The CA is not initialised on the configured HSM; run 'minica init' (the key ceremony) first.");
            }

            await using var turn = await CeremonyTurnAsync(cancellationToken);
            // Another process may have made the CA while this one waited for its turn.
            if (!await IsInitializedAsync(cancellationToken))
            {
                logger.LogInformation("First start: running the key ceremony on the embedded HSM");
                var created = await RunCeremonyAsync(cancellationToken);
                foreach (var authority in created)
                {
                    logger.LogInformation("Authority {Name}: {Subject}, serial {Serial}", authority.Name, authority.Subject, authority.SerialHex);
                }

                // The ceremony may have adopted authorities made before (one added to the configuration later).
                AnchorKeys(created);
                return;
            }
        }

        await WriteCertificateFilesAsync(await AnchorAndCheckKeysAsync(cancellationToken), cancellationToken);
    }

    /// <summary>
    /// What a command that signs needs (<c>issue</c>, <c>crl</c>, <c>revoke</c>): the database up to date, the HSM told
    /// which public key each CA key must have (so a member holding another key under the label is never used), and
    /// the keys checked to be there, as a server start does.
    /// </summary>
    public async Task PrepareSigningAsync(CancellationToken cancellationToken = default)
    {
        await PrepareDatabaseAsync(cancellationToken);
        await AnchorAndCheckKeysAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<AuthorityCertificate>> AnchorAndCheckKeysAsync(CancellationToken cancellationToken)
    {
        var recorded = await authorities.ListAsync(cancellationToken);
        AnchorKeys(recorded);
        CheckAuthorityKeys(recorded);
        WarnOfChangedNameConstraints(recorded);
        WarnOfCertificatePolicies(recorded);
        return recorded;
    }

    /// <summary>
    /// The key ceremony puts an authority's certificatePolicies in its certificate, which is never changed later: a
    /// configuration that asks for others since is said at every start. A profile asserting a policy the issuing
    /// CA's certificate does not carry (nor anyPolicy) is said too: relying parties that require that policy refuse
    /// its certificates (RFC 5280 §6.1.3 (d), (e)), and where the CA's certificate names policies the linter refuses
    /// to sign them (e_cert_policy_not_in_issuer), so the start names the profile before a request fails.
    /// </summary>
    private void WarnOfCertificatePolicies(IReadOnlyList<AuthorityCertificate> recorded)
    {
        foreach (var authority in recorded.Where(a => a.Status == AuthorityStatus.Active && a.CertificateDer is not null))
        {
            if (!options.Authorities.TryGetValue(authority.Name, out var configured))
            {
                continue;
            }

            var certificate = new Org.BouncyCastle.X509.X509Certificate(authority.CertificateDer!);
            var asked = CertificatePolicyStatements.Build(configured.CertificatePolicies)?.GetDerEncoded() ?? [];
            var certified = certificate.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.CertificatePolicies)?.GetOctets() ?? [];
            if (!asked.AsSpan().SequenceEqual(certified))
            {
                logger.LogWarning(
                    "Authority {Name}: Authorities:{Name}:CertificatePolicies differs from the certificatePolicies of its certificate (serial {Serial}: {Policies}), which the key ceremony made and which stay as they are; to convey other policies, add an authority under a new name",
                    authority.Name, authority.Name, authority.SerialHex, PolicyList(CertificatePolicyStatements.Of(certificate)));
            }

            if (authority.Name != options.IssuingAuthority)
            {
                continue;
            }

            var conveyed = CertificatePolicyStatements.Of(certificate);
            foreach (var profile in profiles.All.Where(p => p.CertificatePolicies.Count > 0).OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                var missing = CertificatePolicyStatements.NotConveyed(profile.CertificatePolicies.Select(p => CertificatePolicyStatements.Dotted(p.Oid)), conveyed);
                if (missing.Count == 0)
                {
                    continue;
                }

                if (conveyed.Count == 0)
                {
                    logger.LogWarning(
                        "Profile {Profile} asserts {Missing}, but the issuing CA's certificate (authority {Name}, serial {Serial}) has no certificatePolicies: relying parties that require a policy refuse its certificates (RFC 5280 §6.1.3 (e)); a new issuing authority with Authorities:{{name}}:CertificatePolicies conveys them",
                        profile.Name, string.Join(", ", missing), authority.Name, authority.SerialHex);
                }
                else
                {
                    logger.LogWarning(
                        "Profile {Profile} asserts {Missing}, which the issuing CA's certificate (authority {Name}, serial {Serial}) does not convey ({Policies}): MiniCa refuses to sign its certificates (lint e_cert_policy_not_in_issuer, RFC 5280 §6.1.3 (d)) until the profile names only those or a new issuing authority conveys them",
                        profile.Name, string.Join(", ", missing), authority.Name, authority.SerialHex, PolicyList(conveyed));
                }
            }
        }
    }

    private static string PolicyList(IReadOnlyList<CertificatePolicyStatements.Statement> policies) =>
        policies.Count == 0 ? "none" : string.Join(", ", policies.Select(p => p.Oid == CertificatePolicyStatements.AnyPolicy ? "anyPolicy" : p.Oid));

    /// <summary>
    /// The key ceremony puts an authority's nameConstraints in its certificate, which is never changed later: a
    /// configuration that asks for others since is said at every start, not silently taken for the certificate's.
    /// </summary>
    private void WarnOfChangedNameConstraints(IReadOnlyList<AuthorityCertificate> recorded)
    {
        foreach (var authority in recorded.Where(a => a.Status == AuthorityStatus.Active && a.CertificateDer is not null))
        {
            if (!options.Authorities.TryGetValue(authority.Name, out var configured))
            {
                continue;
            }

            var asked = AuthorityNameConstraints.Build(configured.NameConstraints)?.GetDerEncoded() ?? [];
            var certified = new Org.BouncyCastle.X509.X509Certificate(authority.CertificateDer!).GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.NameConstraints)?.GetOctets() ?? [];
            if (!asked.AsSpan().SequenceEqual(certified))
            {
                logger.LogWarning(
                    "Authority {Name}: Authorities:{Name}:NameConstraints differs from the nameConstraints of its certificate (serial {Serial}), which the key ceremony made and which stay as they are; to issue under other constraints, add an authority under a new name",
                    authority.Name, authority.Name, authority.SerialHex);
            }
        }
    }

    /// <summary>
    /// Tells the HSM cluster the public key each CA key must have (from the recorded CA certificates), so a member
    /// holding a different key under the same label is never used for it.
    /// </summary>
    public void AnchorKeys(IEnumerable<AuthorityCertificate> recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        foreach (var authority in recorded.Where(a => a.Status == AuthorityStatus.Active && a.CertificateDer is not null))
        {
            var certificate = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(authority.CertificateDer);
            hsm.AnchorKey(authority.KeyUri, certificate.CertificateStructure.SubjectPublicKeyInfo.GetDerEncoded());
        }
    }

    /// <summary>
    /// Checks that some member holds each active authority's key with the public key of its certificate, through
    /// the cluster's own comparison (<see cref="ClusterSync.Report"/>, as <c>minica hsm sync</c>): a CA whose keys are
    /// missing or replaced stops here with one line per authority, rather than at its first signature with an error
    /// about a member. Runs after <see cref="AnchorKeys"/>, so each key's reference is its certificate's public key.
    /// </summary>
    /// <exception cref="CaException">An authority's key is on no member that is up, or only with another public key.</exception>
    private void CheckAuthorityKeys(IEnumerable<AuthorityCertificate> recorded)
    {
        var authorities = recorded.Where(a => a.Status == AuthorityStatus.Active && a.CertificateDer is not null)
            .Select(a => (Authority: a, Label: Pkcs11KeyStore.LogicalName(a.KeyUri)))
            .ToList();
        var drift = ClusterSync.Report(hsm, authorities.Select(a => a.Label).ToList());
        var problems = new List<string>();
        foreach (var (authority, label) in authorities.Where(a => !drift.Any(d => d.Label == a.Label && d.State == "ok")))
        {
            var different = drift.Where(d => d.Label == label && d.State == "different").Select(d => d.Member).ToList();
            problems.Add(different.Count == 0
                ? $"authority '{authority.Name}' (serial {authority.SerialHex}): no HSM member holds its key '{label}'"
                : $"authority '{authority.Name}' (serial {authority.SerialHex}): the key '{label}' on {string.Join(", ", different)} is another key than its certificate's");
        }

        if (problems.Count == 0)
        {
            return;
        }

        var status = hsm.GetStatus();
        var tokens = string.Join(", ", status.Where(m => m.State == HsmMemberState.Up).Select(m => $"{m.Name}: token '{m.TokenLabel}' serial {m.TokenSerial}"));
        var down = status.Where(m => m.State != HsmMemberState.Up).Select(m => m.Name).ToList();
        var paths = EmbeddedSoftHsm.PathsFor(options.DataDirectory);
        var remedy = options.Hsm.IsEmbedded
            ? $"The embedded token store is not this CA's: restore {paths.HsmDirectory} together with {Path.GetDirectoryName(paths.UserPinFile)} from the backup made with this database."
            : "Point Hsm:Members at the HSM that holds this CA's keys (or restore them to it).";
        throw new CaException(
            CaErrorKind.Configuration,
            $"The issuance database records authorities whose keys are not in the HSM ({tokens}" +
            (down.Count > 0 ? $"; down: {string.Join(", ", down)}" : string.Empty) + $"): {string.Join("; ", problems)}. {remedy}");
    }

    /// <summary>Writes each active CA certificate as <c>&lt;name&gt;.crt</c> (DER) and <c>&lt;name&gt;.pem</c>.</summary>
    public async Task WriteCertificateFilesAsync(IEnumerable<AuthorityCertificate> certificates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        Directory.CreateDirectory(CertificateDirectory);
        foreach (var certificate in certificates.Where(c => c.CertificateDer is not null))
        {
            var der = certificate.CertificateDer!;
            await File.WriteAllBytesAsync(Path.Combine(CertificateDirectory, certificate.Name + ".crt"), der, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(CertificateDirectory, certificate.Name + ".pem"), CertificateFormats.ToPem(der), cancellationToken);
        }
    }
}
