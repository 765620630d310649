using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Hosting;

/// <summary>
/// Runs the reload hooks for each <see cref="ReloadRequests"/> request, never before the host has
/// started (a SIGHUP during start-up waits for the instance to be ready, where it was fatal before),
/// one reload at a time, at most one every <see cref="Spacing"/>. Under systemd (Type=notify), each reload is bracketed by RELOADING=1 and
/// READY=1; READY=1 at start and STOPPING=1 at stop come from UseSystemd's lifetime.
/// </summary>
public sealed partial class ReloadService(
    ReloadRequests requests, IEnumerable<IReloadHook> reloadHooks, IHostApplicationLifetime lifetime,
    ILogger<ReloadService> logger, ISystemdNotifier? systemd = null) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        if (requests.Received > 0)
            LogQueuedDuringStart(requests.Received);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await requests.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            Reload();
            try
            {
                // Requests arriving meanwhile (a storm of SIGHUPs) are coalesced into the next reload.
                await Task.Delay(Spacing, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Least time between two reloads: a storm of SIGHUPs costs a reload every 100 ms at most.</summary>
    internal static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(100);

    /// <summary>What one reload request does: every hook, each on its own.</summary>
    internal void Reload()
    {
        systemd?.Notify(new ServiceState($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}"));
        var hooks = reloadHooks.ToList();
        if (hooks.Count == 0)
            LogNothingToReload();
        foreach (var hook in hooks)
        {
            try
            {
                hook.Reload();
            }
            catch (Exception e)
            {
                LogReloadFailed(hook.GetType().Name, e.Message);
            }
        }
        systemd?.Notify(ServiceState.Ready);
    }

    // Stopwatch reads CLOCK_MONOTONIC on Linux, the clock systemd matches RELOADING=1 against.
    private static long MonotonicMicroseconds() =>
        (long)(System.Diagnostics.Stopwatch.GetTimestamp() * (1_000_000.0 / System.Diagnostics.Stopwatch.Frequency));

    [LoggerMessage(EventId = EventIds.ReloadsQueuedDuringStart, Level = LogLevel.Information,
        Message = "{Count} SIGHUP(s) arrived during start-up; reloading now that the instance is ready")]
    private partial void LogQueuedDuringStart(int count);

    [LoggerMessage(EventId = EventIds.NothingToReload, Level = LogLevel.Information,
        Message = "SIGHUP: nothing reloads live; configuration changes take a restart (systemctl restart)")]
    private partial void LogNothingToReload();

    [LoggerMessage(EventId = EventIds.ReloadStepFailed, Level = LogLevel.Error, Message = "Reload step {Hook} failed; the instance keeps running as before: {Reason}")]
    private partial void LogReloadFailed(string hook, string reason);
}
