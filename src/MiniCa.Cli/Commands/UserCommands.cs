using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using MiniCa.Core.Errors;
using MiniCa.Hosting;
using MiniCa.Hosting.Users;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>
/// <c>minica user add --name N --role R [--role R2] [--email E] [--password-file F]</c>. The password comes from
/// the file, from <c>MINICA_USER_PASSWORD</c>, or is generated and printed once.
/// </summary>
internal sealed class UserAddCommand : AsyncCommand<UserAddCommand.Settings>
{
    internal const string PasswordVariable = "MINICA_USER_PASSWORD";

    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--config <PATH>")]
        [Description("Configuration file.")]
        public string? Config { get; init; }

        [CommandOption("--name <NAME>")]
        [Description("User name (letters, digits, '.', '-', '_', '@').")]
        public string Name { get; init; } = string.Empty;

        [CommandOption("--role <ROLE>")]
        [Description("Requester, Officer, Administrator or Auditor; repeat for several.")]
        public string[] Roles { get; init; } = [];

        [CommandOption("--email <ADDRESS>")]
        [Description("Contact address (optional).")]
        public string? Email { get; init; }

        [CommandOption("--password-file <PATH>")]
        [Description("A file holding the password (first line). Otherwise MINICA_USER_PASSWORD, otherwise generated.")]
        public string? PasswordFile { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Name) ? ValidationResult.Error("--name NAME is required.")
            : Roles.Length == 0 ? ValidationResult.Error($"--role ROLE is required ({string.Join(", ", PortalRoles.All)}).")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string? password = null;
        if (settings.PasswordFile is { } file)
        {
            password = File.Exists(file)
                ? File.ReadLines(file).FirstOrDefault()?.TrimEnd('\r')
                : throw new CaException(CaErrorKind.Configuration, $"--password-file {file}: no such file.");
        }

        password ??= Environment.GetEnvironmentVariable(PasswordVariable);
        var generated = string.IsNullOrEmpty(password);
        if (generated)
        {
            password = UserAdministration.GeneratePassword();
        }

        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        await using var scope = services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<UserAdministration>()
            .CreateAsync(settings.Name, settings.Email, settings.Roles, password!, "cli:" + Environment.UserName, cancellationToken);
        Console.WriteLine($"Created user '{created.UserName}' ({string.Join(", ", created.Roles)}).");
        if (generated)
        {
            Console.WriteLine($"Password (shown once): {password}");
        }

        return 0;
    }
}

/// <summary><c>minica user list</c>: every portal user with roles and lock state.</summary>
internal sealed class UserListCommand : AsyncCommand<CaCommandSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, CaCommandSettings settings, CancellationToken cancellationToken)
    {
        await using var services = CliContext.BuildServices();
        await services.GetRequiredService<CaBootstrapper>().PrepareDatabaseAsync(cancellationToken);
        await using var scope = services.CreateAsyncScope();
        var table = new Table().AddColumns("User", "Roles", "Email", "Locked", "Created");
        foreach (var user in await scope.ServiceProvider.GetRequiredService<UserAdministration>().ListAsync())
        {
            table.AddRow(Markup.Escape(user.UserName), string.Join(", ", user.Roles), Markup.Escape(user.Email ?? string.Empty),
                user.LockedOut ? "yes" : "no", user.CreatedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
