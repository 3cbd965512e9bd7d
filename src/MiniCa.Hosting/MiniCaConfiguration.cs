using Microsoft.Extensions.Configuration;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;

namespace MiniCa.Hosting;

/// <summary>The configuration a host runs with: the validated options and where they came from.</summary>
/// <param name="Options">Validated options with every path made absolute.</param>
/// <param name="ConfigFile">The configuration file read, or <see langword="null"/> when none exists.</param>
/// <param name="BaseDirectory">The folder relative paths resolve against (the configuration file's).</param>
/// <param name="Configuration">The layered configuration (file, environment, command line).</param>
public sealed record LoadedConfiguration(CaOptions Options, string? ConfigFile, string BaseDirectory, IConfiguration Configuration);

/// <summary>
/// Loads <c>ca.config.json</c> (or <c>--config PATH</c> / <c>MINICA_CONFIG</c>), layers <c>MINICA_</c> environment
/// variables and <c>--Section:Key=value</c> arguments over it, and validates the result once. Every failure names
/// the file, the key and the problem.
/// </summary>
public static class MiniCaConfiguration
{
    /// <summary>The default configuration file name, looked up in the current directory.</summary>
    public const string DefaultFileName = "ca.config.json";

    /// <summary>Sections of the file that belong to the host (ASP.NET Core), not to <see cref="CaOptions"/>.</summary>
    private static readonly string[] HostSections = ["Logging", "AllowedHosts", "Kestrel"];

    /// <summary>Loads and validates the configuration for the given command-line arguments.</summary>
    /// <exception cref="CaException">The file is missing, unreadable or invalid (<see cref="CaErrorKind.Configuration"/>).</exception>
    public static LoadedConfiguration Load(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var (explicitPath, overrides) = SplitArguments(args);
        explicitPath ??= Environment.GetEnvironmentVariable("MINICA_CONFIG");

        string? file;
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            file = Path.GetFullPath(explicitPath);
            if (!File.Exists(file))
            {
                throw new CaException(CaErrorKind.Configuration, $"Configuration file {file} does not exist.");
            }
        }
        else
        {
            var candidate = Path.GetFullPath(DefaultFileName);
            file = File.Exists(candidate) ? candidate : null;
        }

        var baseDirectory = file is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(file)!;
        var source = file ?? "the built-in defaults";

        if (file is not null)
        {
            CheckFileAlone(file);
        }

        var builder = new ConfigurationBuilder();
        if (file is not null)
        {
            builder.AddJsonFile(file, optional: false, reloadOnChange: false);
        }

        var configuration = builder
            .AddEnvironmentVariables("MINICA_")
            .AddCommandLine(overrides.ToArray())
            .Build();

        var options = new CaOptions();
        try
        {
            configuration.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new CaException(
                CaErrorKind.Configuration,
                $"Configuration error in {source} (with MINICA_ environment variables and command-line overrides): {Describe(ex)}",
                ex);
        }

        CaOptionsValidator.ApplyDefaults(options);
        var problems = CaOptionsValidator.Validate(options);
        if (problems.Count > 0)
        {
            throw new CaException(
                CaErrorKind.Configuration,
                $"Configuration error in {source}:{Environment.NewLine}" + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)));
        }

        ResolvePaths(options, baseDirectory);
        return new LoadedConfiguration(options, file, baseDirectory, configuration);
    }

    /// <summary>
    /// Reads the file on its own first: JSON syntax errors and unknown keys (a typo would otherwise be silently
    /// ignored) are reported against the file itself.
    /// </summary>
    private static void CheckFileAlone(string file)
    {
        IConfigurationRoot fileOnly;
        try
        {
            fileOnly = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException or IOException)
        {
            throw new CaException(CaErrorKind.Configuration, $"Configuration file {file} is not valid JSON: {Describe(ex)}", ex);
        }

        var unknownSections = fileOnly.GetChildren()
            .Where(c => !HostSections.Contains(c.Key, StringComparer.OrdinalIgnoreCase))
            .ToList();
        var scoped = new ConfigurationBuilder()
            .AddInMemoryCollection(unknownSections.SelectMany(s => s.AsEnumerable()).Where(kv => kv.Value is not null))
            .Build();
        try
        {
            scoped.Bind(new CaOptions(), o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            throw new CaException(CaErrorKind.Configuration, $"Configuration error in {file}: {Describe(ex)}", ex);
        }
    }

    private static string Describe(Exception ex)
    {
        // The binder nests the useful part ("Failed to convert configuration value '...' at 'Hsm:MaxSessions' to
        // type 'System.Int32'") around an inner exception; keep both messages, never a stack trace.
        var message = ex.Message;
        if (ex.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal))
        {
            message += " " + inner.Message;
        }

        return message;
    }

    private static (string? ConfigPath, List<string> Overrides) SplitArguments(IReadOnlyList<string> args)
    {
        string? path = null;
        var overrides = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--config")
            {
                if (i + 1 >= args.Count)
                {
                    throw new CaException(CaErrorKind.Configuration, "--config needs a file path.");
                }

                path = args[++i];
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                path = arg["--config=".Length..];
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':', StringComparison.Ordinal))
            {
                // --Section:Key=value or --Section:Key value
                if (arg.Contains('=', StringComparison.Ordinal) || i + 1 >= args.Count)
                {
                    overrides.Add(arg);
                }
                else
                {
                    overrides.Add(arg);
                    overrides.Add(args[++i]);
                }
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && IsTopLevelOption(arg))
            {
                overrides.Add(arg);
            }
        }

        return (path, overrides);
    }

    private static bool IsTopLevelOption(string arg)
    {
        var name = arg[2..].Split('=')[0];
        return typeof(CaOptions).GetProperties().Any(p => p.CanWrite && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            && arg.Contains('=', StringComparison.Ordinal);
    }

    /// <summary>Removes what <see cref="Load"/> consumed, leaving the arguments meant for the command itself.</summary>
    public static string[] CommandArguments(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--config")
            {
                i++;
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal))
            {
                continue;
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':', StringComparison.Ordinal))
            {
                if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Count)
                {
                    i++;
                }
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && IsTopLevelOption(arg))
            {
                continue;
            }
            else
            {
                rest.Add(arg);
            }
        }

        return rest.ToArray();
    }

    private static void ResolvePaths(CaOptions options, string baseDirectory)
    {
        options.DataDirectory = Path.GetFullPath(options.DataDirectory, baseDirectory);
        options.PoliciesDirectory = Path.GetFullPath(options.PoliciesDirectory, baseDirectory);
        if (string.IsNullOrWhiteSpace(options.Database.ConnectionString))
        {
            options.Database.ConnectionString = $"Data Source={Path.Combine(options.DataDirectory, "minica.db")}";
        }
    }
}
