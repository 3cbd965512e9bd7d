using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MiniCa.Hosting;

namespace MiniCa.Cli;

/// <summary>Builds the services a command needs from the process's own arguments and environment.</summary>
internal static class CliContext
{
    /// <summary>The arguments as given, including <c>--config</c> and <c>--Section:Key=value</c> overrides.</summary>
    internal static IReadOnlyList<string> RawArguments { get; set; } = [];

    internal static ServiceProvider BuildServices()
    {
        var configuration = MiniCaConfiguration.Load(RawArguments);
        var services = new ServiceCollection();
        // Log lines go to standard error: standard output is the command's answer, which may be a certificate chain
        // piped to a file (`minica issue --csr r.csr --profile tls-server > chain.pem`).
        services.AddLogging(logging => logging
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Warning));
        services.AddMiniCa(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
