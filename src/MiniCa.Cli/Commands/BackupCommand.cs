using System.ComponentModel;
using MiniCa.Hosting;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary><c>minica backup --out DIR</c>: a consistent copy of the CA, taken while it runs.</summary>
internal sealed class BackupCommand : AsyncCommand<BackupCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("A new (or empty) folder for the backup.")]
        public string? Out { get; init; }

        public override Spectre.Console.ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Out) ? Spectre.Console.ValidationResult.Error("--out DIR is required: a new folder for the backup.") : Spectre.Console.ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var loaded = MiniCaConfiguration.Load(CliContext.RawArguments);
        var backup = await CaBackup.CreateAsync(loaded, settings.Out!, cancellationToken);
        var postgres = loaded.Options.Database.IsPostgres;
        Console.WriteLine(
            $"Backup written to {backup.Directory}: " +
            (postgres
                ? $"database dump {backup.Database} (pg_dump from one snapshot holding {backup.Authorities} authorities, {backup.Certificates} certificates; pg_restore reads it)"
                : $"database {backup.Database} ({backup.Authorities} authorities, {backup.Certificates} certificates; integrity ok)") +
            (backup.TokenFiles > 0 ? $", the embedded token store ({backup.TokenFiles} files) and its PINs." : "; the keys are in the configured HSM: back them up with its own tools."));
        if (backup.TokenFiles > 0)
        {
            Console.WriteLine("It holds the token and the PINs that open it: keep it as secret as the HSM.");
        }

        Console.WriteLine($"Manifest: {BackupManifest.FileName}, the size and SHA-256 of its {backup.Files} other files; `minica backup verify {backup.Directory}` checks that the backup would bring this CA back.");

        if (postgres)
        {
            var restore = $"To restore, create an empty database, run pg_restore --no-owner --dbname=NAME {backup.Database}, and ";
            Console.WriteLine(backup.StartsAsIs
                ? restore + $"start the CA on {(loaded.ConfigFile is null ? $"the built-in defaults in {backup.Directory}" : Path.Combine(backup.Directory, Path.GetFileName(loaded.ConfigFile)))} with Database:ConnectionString naming that database, wherever the folder is put."
                : restore + $"put the backup's copies at the paths the configuration names ({loaded.Options.DataDirectory}, {loaded.Options.PoliciesDirectory}), with Database:ConnectionString naming that database.");
            return 0;
        }

        Console.WriteLine(backup.StartsAsIs
            ? loaded.ConfigFile is null
                ? $"To restore, start the CA in {backup.Directory} (the built-in defaults, as now), wherever the folder is put."
                : $"To restore, start the CA on {Path.Combine(backup.Directory, Path.GetFileName(loaded.ConfigFile))} (--config), wherever the folder is put."
            : $"The configuration names a data folder, database or profiles outside its own folder: to restore, put the backup's copies at those paths ({loaded.Options.DataDirectory}, {loaded.Options.PoliciesDirectory}) with the CA stopped.");

        return 0;
    }
}
