using System.ComponentModel;
using Spectre.Console.Cli;

namespace MiniCa.Cli.Commands;

/// <summary>Options every command takes.</summary>
internal sealed class CaCommandSettings : CommandSettings
{
    /// <summary>Read by the configuration loader from the raw arguments; declared here for help and parsing.</summary>
    [CommandOption("--config <PATH>")]
    [Description("Configuration file (default: ./ca.config.json, or MINICA_CONFIG). Override keys with --Section:Key=value.")]
    public string? Config { get; init; }
}
