using Microsoft.Extensions.Configuration;
using MiniCa.Core.Configuration;
using MiniCa.Core.Errors;

namespace MiniCa.Hosting;

/// <summary>The configuration a host runs with: the validated options and where they came from.</summary>
/// <param name="Options">Validated options with every path made absolute.</param>
/// <param name="ConfigFile">The configuration file read, or <see langword="null"/> when none exists.</param>
/// <param name="BaseDirectory">The folder relative paths resolve against (the configuration file's).</param>
/// <param name="Configuration">The layered configuration (file, environment, command line).</param>
public sealed record LoadedConfiguration(CaOptions Options, string? ConfigFile, string BaseDirectory, IConfiguration Configuration)
{
    /// <summary>What errors name as the configuration's origin: the file, or the built-in defaults when there is none.</summary>
    public string Source => MiniCaConfiguration.SourceName(ConfigFile);

    /// <summary>
    /// <paramref name="problems"/> (each <c>Key: what is wrong</c>) with the origin of each key that a <c>MINICA_</c>
    /// environment variable or a command-line argument set, so an error does not send the operator to the file.
    /// </summary>
    public IEnumerable<string> Attribute(IEnumerable<string> problems) => MiniCaConfiguration.Attribute(Configuration, problems);
}

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

        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var file = Path.GetFullPath(explicitPath);
            return LoadFrom(file, Path.GetDirectoryName(file)!, overrides);
        }

        var candidate = Path.GetFullPath(DefaultFileName);
        return File.Exists(candidate)
            ? Build(candidate, Path.GetDirectoryName(candidate)!, overrides)
            : Build(null, Directory.GetCurrentDirectory(), overrides);
    }

    /// <summary>
    /// Loads and validates <paramref name="file"/> (or the built-in defaults when <see langword="null"/>, relative paths
    /// against <paramref name="baseDirectory"/>), with <c>MINICA_</c> environment variables and then
    /// <paramref name="overrides"/> (<c>--Section:Key=value</c>) over it: a configuration that is not the process's
    /// own, such as a backup's (<see cref="CaBackupCheck"/>).
    /// </summary>
    /// <exception cref="CaException">The file is missing, unreadable or invalid (<see cref="CaErrorKind.Configuration"/>).</exception>
    public static LoadedConfiguration LoadFrom(string? file, string baseDirectory, IReadOnlyList<string> overrides)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(baseDirectory);
        ArgumentNullException.ThrowIfNull(overrides);
        if (file is not null)
        {
            file = Path.GetFullPath(file);
            if (!File.Exists(file))
            {
                throw new CaException(CaErrorKind.Configuration, $"Configuration file {file} does not exist.");
            }
        }

        return Build(file, Path.GetFullPath(baseDirectory), overrides);
    }

    private static LoadedConfiguration Build(string? file, string baseDirectory, IReadOnlyList<string> overrides)
    {
        var source = SourceName(file);

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
        var problems = CaOptionsValidator.Validate(options).ToList();
        if (options.Database.IsPostgres && options.Database.ConnectionString is { } connectionString
            && MiniCa.Data.Postgres.PostgresDatabase.CheckConnectionString(connectionString) is { } connectionProblem)
        {
            problems.Add("Database:ConnectionString: " + connectionProblem);
        }

        if (problems.Count > 0)
        {
            throw new CaException(
                CaErrorKind.Configuration,
                $"Configuration error in {source}: " + string.Join("; ", Attribute(configuration, problems)));
        }

        ResolvePaths(options, baseDirectory);
        return new LoadedConfiguration(options, file, baseDirectory, configuration);
    }

    internal static string SourceName(string? file) => file ?? "the built-in defaults";

    /// <inheritdoc cref="LoadedConfiguration.Attribute"/>
    internal static IEnumerable<string> Attribute(IConfiguration configuration, IEnumerable<string> problems)
    {
        foreach (var problem in problems)
        {
            var end = problem.IndexOf(": ", StringComparison.Ordinal);
            var origin = end > 0 ? OverrideOrigin(configuration, problem[..end]) : null;
            yield return origin is null ? problem : $"{problem[..end]} (set by {origin}){problem[end..]}";
        }
    }

    /// <summary>
    /// The environment variable or command-line argument that gave <paramref name="key"/> its value (the last
    /// provider that has it wins, as in binding); <see langword="null"/> when the file or a default did.
    /// </summary>
    private static string? OverrideOrigin(IConfiguration configuration, string key)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return null;
        }

        var provider = root.Providers.Reverse().FirstOrDefault(p => p.TryGet(key, out _) || p.GetChildKeys([], key).Any());
        return provider switch
        {
            Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider => $"the environment variable MINICA_{key.Replace(":", "__", StringComparison.Ordinal)}",
            Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider => $"the command-line argument --{key}",
            _ => null,
        };
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

        var unknown = new List<string>();
        foreach (var section in fileOnly.GetChildren().Where(c => !HostSections.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
        {
            FindUnknownKeys(section, typeof(CaOptions), unknown);
        }

        if (unknown.Count > 0)
        {
            throw new CaException(CaErrorKind.Configuration, $"Configuration error in {file}: " + string.Join("; ", unknown));
        }
    }

    /// <summary>
    /// Walks the file's keys against the options types: a misspelt key would otherwise be ignored silently and
    /// its default used (STYLE.md rule 3: unknown field = error).
    /// </summary>
    private static void FindUnknownKeys(IConfigurationSection section, Type parentType, List<string> unknown)
    {
        var property = parentType.GetProperties().FirstOrDefault(p => p.CanWrite && string.Equals(p.Name, section.Key, StringComparison.OrdinalIgnoreCase));
        if (property is null)
        {
            var known = parentType.GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal);
            unknown.Add($"{section.Path}: unknown key (expected one of {string.Join(", ", known)})");
            return;
        }

        CheckValue(section, property.PropertyType, unknown);
    }

    private static void CheckValue(IConfigurationSection section, Type type, List<string> unknown)
    {
        var children = section.GetChildren().ToList();
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            children.ForEach(child => CheckValue(child, type.GetGenericArguments()[1], unknown));
        }
        else if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            children.ForEach(child => CheckValue(child, type.GetGenericArguments()[0], unknown));
        }
        else if (type.IsClass && type != typeof(string))
        {
            if (children.Count == 0 && !string.IsNullOrEmpty(section.Value) && type.Namespace?.StartsWith("MiniCa.", StringComparison.Ordinal) == true)
            {
                // The binder would leave the object at its defaults and drop the value without a word.
                var known = type.GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal);
                unknown.Add($"{section.Path}: expected an object (with {string.Join(", ", known)}), not a single value");
            }

            children.ForEach(child => FindUnknownKeys(child, type, unknown));
        }
        else if (children.Count > 0)
        {
            unknown.Add($"{section.Path}: expected a single value, not an object or list");
        }
    }

    private static string Describe(Exception ex)
    {
        // The binder nests the useful part ("Failed to convert configuration value '...' at 'Hsm:MaxSessions' to
        // type 'System.Int32'") around an inner exception; keep both messages, never a stack trace.
        var message = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Text.Json.JsonException { LineNumber: { } line } json)
            {
                // JsonException counts from 0; editors count from 1.
                return $"{message} Line {line + 1}, position {(json.BytePositionInLine ?? 0) + 1}.";
            }

            if (!message.Contains(inner.Message, StringComparison.Ordinal))
            {
                message += " " + inner.Message;
            }
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
        if (options.Backup.Directory is { } backups)
        {
            options.Backup.Directory = Path.GetFullPath(backups, baseDirectory);
        }

        options.BlockedKeyLists = options.BlockedKeyLists.ConvertAll(list => string.IsNullOrWhiteSpace(list) ? list : Path.GetFullPath(list, baseDirectory));
        if (string.IsNullOrWhiteSpace(options.Database.ConnectionString) && !options.Database.IsPostgres)
        {
            options.Database.ConnectionString = $"Data Source={Path.Combine(options.DataDirectory, "minica.db")}";
        }
    }
}
