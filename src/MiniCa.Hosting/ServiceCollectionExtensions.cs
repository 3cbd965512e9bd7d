using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Authority;
using MiniCa.Authority.Issuance;
using MiniCa.Authority.Ocsp;
using MiniCa.Authority.Revocation;
using MiniCa.Core.Authorities;
using MiniCa.Core.Configuration;
using MiniCa.Core.Ledger;
using MiniCa.Core.Linting;
using MiniCa.Core.Profiles;
using MiniCa.Core.Requests;
using MiniCa.Core.Serials;
using MiniCa.Core.Signing;
using MiniCa.Data;
using MiniCa.Data.Entities;
using MiniCa.Data.Stores;
using MiniCa.Hosting.Users;
using MiniCa.Hsm;

namespace MiniCa.Hosting;

/// <summary>Registers MiniCa's parts; both hosts call this with the same loaded configuration.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>Adds the HSM door, the database, the stores and the CA workflow.</summary>
    public static IServiceCollection AddMiniCa(this IServiceCollection services, LoadedConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.Options;

        services.AddSingleton(configuration);
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ISerialNumberGenerator, RandomSerialNumberGenerator>();

        // The HSM is opened on first use, so configuration errors are reported before any module is loaded.
        services.AddSingleton(sp => new HsmCluster(
            ResolveMembers(options, configuration.BaseDirectory),
            new HsmClusterSettings
            {
                OperationTimeout = TimeSpan.FromSeconds(options.Hsm.OperationTimeoutSeconds),
                ProbeInterval = TimeSpan.FromSeconds(options.Hsm.ProbeIntervalSeconds),
                CopyableKeys = options.Hsm.CopyableKeys,
            },
            sp.GetService<Microsoft.Extensions.Logging.ILogger<HsmCluster>>()));
        services.AddSingleton(sp => new ClusterKeyStore(sp.GetRequiredService<HsmCluster>()));
        services.AddSingleton<IKeyManager>(sp => sp.GetRequiredService<ClusterKeyStore>());

        if (options.Database.IsPostgres)
        {
            // The password is read when the first connection is made, so that a missing one is reported as the
            // database's start-up error, naming its source.
            var password = new Lazy<string?>(() => options.Database.PasswordSource is { } source
                ? PinSource.Resolve(source, configuration.BaseDirectory, "Database:PasswordSource")
                : null);
            services.AddPooledDbContextFactory<MiniCaDbContext>(db => QuietFailures(MiniCa.Data.Postgres.PostgresDatabase.Use(db, options.Database.ConnectionString!, password.Value)));
        }
        else
        {
            var pragmas = new SqlitePragmas();
            // The compiled model (src/MiniCa.Data/CompiledModel, `dotnet ef dbcontext optimize`) spares every process
            // about 0.6 s of model building; a unit test fails when it no longer matches the model the code builds.
            services.AddPooledDbContextFactory<MiniCaDbContext>(db => QuietFailures(db.UseSqlite(options.Database.ConnectionString)
                .UseModel(MiniCa.Data.CompiledModel.MiniCaDbContextModel.Instance)
                .AddInterceptors(pragmas)));
        }

        // One writer at a time: this process's on SQLite, every process's sharing the database on PostgreSQL.
        services.AddSingleton(sp => options.Database.IsPostgres
            ? new WriteGate(cancellationToken => MiniCa.Data.Postgres.PostgresDatabase.HoldWriterTurnAsync(sp.GetRequiredService<IDbContextFactory<MiniCaDbContext>>(), cancellationToken))
            : new WriteGate());
        services.AddSingleton<EfAuthorityStore>();
        services.AddSingleton<IAuthorityStore>(sp => sp.GetRequiredService<EfAuthorityStore>());
        services.AddSingleton<IAuthorityReader>(sp => sp.GetRequiredService<EfAuthorityStore>());
        services.AddSingleton<EfIssuanceLedger>();
        services.AddSingleton<IIssuanceLedger>(sp => sp.GetRequiredService<EfIssuanceLedger>());
        services.AddSingleton<IIssuanceReader>(sp => sp.GetRequiredService<EfIssuanceLedger>());
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<EfIssuanceLedger>());
        services.AddSingleton<MiniCa.Core.Acme.IAcmeStore, EfAcmeStore>();
        services.AddSingleton<IRevocationLedger, EfRevocationLedger>();
        services.AddSingleton<MiniCa.Core.Quorum.IQuorumStore, EfQuorumStore>();
        services.AddSingleton<MiniCa.Authority.Quorum.QuorumService>();
        // Identity's EF stores want a scoped context; it comes from the same pool.
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<MiniCaDbContext>>().CreateDbContext());
        services.AddIdentityCore<MiniCaUser>(ConfigureIdentity)
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<MiniCaDbContext>();
        services.AddScoped<UserAdministration>();

        // Profiles are read once; a bad profile fails the start (the bootstrapper resolves this first).
        services.AddSingleton(_ => ProfileLoader.LoadDirectory(options.PoliciesDirectory));
        services.AddSingleton(_ => BlockedKeyLists.Load(options.BlockedKeyLists));
        services.AddSingleton(CertificateLinter.Default);
        services.AddSingleton<IssuanceService>();
        services.AddSingleton(CrlLinter.Default);
        services.AddSingleton<RevocationService>();
        services.AddSingleton<CrlService>();
        services.AddSingleton<OcspResponderCertificate>();
        services.AddSingleton<OcspResponder>();
        services.AddSingleton<KeyCeremony>();
        services.AddSingleton<CaBootstrapper>();
        services.AddSingleton<ClusterOperations>();
        services.AddSingleton<AuditLogIntegrity>();
        return services;
    }

    /// <summary>
    /// EF Core logs a failed query, command, connection or save as an error with its stack trace, then throws it to
    /// the caller, which answers for it: a refusal with its reason, a 503 and one line for an outage. During a
    /// PostgreSQL outage that was two stack traces every two seconds (the OCSP poll) and more per request; those
    /// logs go to Debug. Text holding a NUL character is refused before it reaches either database (<see cref="NulTextGuard"/>).
    /// </summary>
    private static DbContextOptionsBuilder QuietFailures(DbContextOptionsBuilder builder) =>
        builder.AddInterceptors(NulTextGuard.Instance).ConfigureWarnings(warnings => warnings.Log(
            (Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.QueryIterationFailed, Microsoft.Extensions.Logging.LogLevel.Debug),
            (Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.SaveChangesFailed, Microsoft.Extensions.Logging.LogLevel.Debug),
            (Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.CommandError, Microsoft.Extensions.Logging.LogLevel.Debug),
            (Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.ConnectionError, Microsoft.Extensions.Logging.LogLevel.Debug)));

    /// <summary>
    /// Password and lockout policy of portal accounts. Length over composition rules (NIST SP 800-63B §3.1.1.2:
    /// at least 8, we ask 12; no composition rules); 5 failed logins lock an account for 15 minutes.
    /// </summary>
    public static void ConfigureIdentity(IdentityOptions identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        identity.Password.RequiredLength = 12;
        identity.Password.RequiredUniqueChars = 5;
        identity.Password.RequireDigit = false;
        identity.Password.RequireLowercase = false;
        identity.Password.RequireUppercase = false;
        identity.Password.RequireNonAlphanumeric = false;
        identity.Lockout.AllowedForNewUsers = true;
        identity.Lockout.MaxFailedAccessAttempts = 5;
        identity.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
        identity.User.RequireUniqueEmail = false;
        identity.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@";
    }

    /// <summary>
    /// The members to connect: the configured ones, or the embedded SoftHSM2 token (provisioned on first use).
    /// </summary>
    public static IReadOnlyList<HsmMemberSettings> ResolveMembers(CaOptions options, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Hsm.IsEmbedded)
        {
            return [EmbeddedSoftHsm.Provision(options.DataDirectory, options.Hsm.EmbeddedModulePath, options.Hsm.MaxSessions)];
        }

        return options.Hsm.Members.Select(member => new HsmMemberSettings
        {
            Name = member.Name,
            ModulePath = member.ModulePath,
            TokenLabel = string.IsNullOrWhiteSpace(member.TokenLabel) ? null : member.TokenLabel,
            TokenSerial = string.IsNullOrWhiteSpace(member.TokenSerial) ? null : member.TokenSerial,
            PinSource = member.PinSource,
            SoPinSource = string.IsNullOrWhiteSpace(member.SoPinSource) ? null : member.SoPinSource,
            ModuleEnvironment = member.ModuleEnvironment,
            BaseDirectory = baseDirectory,
            MaxSessions = options.Hsm.MaxSessions,
        }).ToList();
    }
}
