using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MiniCa.Acme;

/// <summary>At start, finishes the validations a previous process left in processing.</summary>
internal sealed class AcmeResumption(AcmeServer server, ILogger<AcmeResumption> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (await server.ResumeAsync(stoppingToken) is > 0 and var count)
            {
                logger.LogInformation("Resumed {Count} ACME validation(s) interrupted by the last stop", count);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Resuming interrupted ACME validations failed");
        }
    }
}
