using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using SfcProxy.Composition;
using SfcProxy.Configuration;
using SfcProxy.Hosting;
using SfcProxy.Proxy;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy run --config FILE`: the daemon.</summary>
internal static class RunCommand
{
    public static Command Create(Func<IServiceProvider, IProxyDatapath> datapathFactory, ReloadRequests? reloadRequests = null)
    {
        var config = CliOptions.Config();
        var command = new Command("run", "Attach the proxy and serve stats on its socket until SIGINT/SIGTERM") { config };
        command.SetAction((parseResult, cancellationToken) =>
            RunAsync(parseResult.GetRequiredValue(config), datapathFactory, reloadRequests ?? ReloadRequests.ListenForSighup(),
                parseResult.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string configPath, Func<IServiceProvider, IProxyDatapath> datapathFactory, ReloadRequests reloadRequests, TextWriter error,
        CancellationToken cancellationToken)
    {
        if (!ConfigCheck.FileIsReadable(configPath, error))
            return ExitCodes.BadConfig;

        IHost host;
        try
        {
            host = DaemonHost.CreateBuilder(configPath, datapathFactory, reloadRequests).Build();
        }
        catch (InvalidDataException e)
        {
            ConfigCheck.PrintUnreadable(configPath, e, error);
            return ExitCodes.BadConfig;
        }

        using (host)
        {
            if (!ConfigCheck.OptionsAreValid(host.Services, configPath, error))
                return ExitCodes.BadConfig;
            host.Services.GetRequiredService<LogLevelSwitch>().Minimum =
                host.Services.GetRequiredService<IOptions<SfcProxyOptions>>().Value.LogLevel;
            // Resolved now: RunAsync disposes the host (and its services) before it returns.
            var shutdownFailures = host.Services.GetRequiredService<ShutdownFailures>();
            try
            {
                // The host's lifetime (console, or systemd's) turns SIGINT/SIGTERM into an orderly stop.
                await host.RunAsync(cancellationToken);
                foreach (var failure in shutdownFailures.All)
                    error.WriteLine($"sfcproxy: stop incomplete: {failure}");
                return shutdownFailures.All.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (OptionsValidationException e)
            {
                ConfigCheck.PrintFailures(configPath, e, error);
                return ExitCodes.BadConfig;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Already logged with details by the failing service; this is the one-line summary.
                error.WriteLine($"sfcproxy: {e.Message}");
                return ExitCodes.Failed;
            }
        }
    }
}
