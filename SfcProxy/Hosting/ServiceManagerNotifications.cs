using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Hosting;

/// <summary>
/// Tells systemd how the instance is doing: READY=1 when every other hosted service has started
/// (registered last, so the datapath is attached and the control socket listens), STOPPING=1 when
/// shutdown begins, RELOADING=1 ... READY=1 around SIGHUP. Also keeps SIGHUP from killing the
/// process, which is its default action.
/// </summary>
public sealed partial class ServiceManagerNotifications(
    SystemdNotifier notifier, IEnumerable<IReloadHook> reloadHooks, ILogger<ServiceManagerNotifications> logger) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _hangup;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Reload();
        });
        bool sent = notifier.Ready("proxying");
        LogReady(sent);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        notifier.Stopping();
        return Task.CompletedTask;
    }

    /// <summary>What SIGHUP does: every reload hook, bracketed by RELOADING=1 and READY=1.</summary>
    internal void Reload()
    {
        notifier.Reloading();
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
                LogReloadFailed(e, hook.GetType().Name);
            }
        }
        notifier.Ready("proxying");
    }

    public void Dispose() => _hangup?.Dispose();

    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Start-up complete; told systemd READY=1: {Sent}")]
    private partial void LogReady(bool sent);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information,
        Message = "SIGHUP: nothing reloads live; configuration changes take a restart (systemctl restart)")]
    private partial void LogNothingToReload();

    [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "Reload step {Hook} failed; the instance keeps running as before")]
    private partial void LogReloadFailed(Exception exception, string hook);
}
