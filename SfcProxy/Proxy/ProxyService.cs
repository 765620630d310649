using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// Owns the datapath's attachment for the life of the host: attached in <see cref="StartAsync"/>,
/// detached on stop, on dispose, and whatever happens in between.
/// </summary>
public sealed partial class ProxyService(
    IProxyDatapath datapath, IOptions<SfcProxyOptions> options, ILogger<ProxyService> logger) : BackgroundService
{
    private int _attached;

    /// <summary>
    /// Starts the datapath synchronously so that a failure fails host start (and the process exit
    /// code) instead of surfacing later from a background task, and so that services registered
    /// after this one (the control socket) only start once packets are being proxied.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        LogStarting(o.Instance, OptionValues.KeyModes.NameOf(o.KeyMode), o.Interfaces.Ingress, o.Interfaces.Egress,
            o.Interfaces.Vnf ?? "(host stack)");
        try
        {
            datapath.Start();
        }
        catch (Exception e)
        {
            LogStartFailed(e, o.Instance);
            throw;
        }
        Volatile.Write(ref _attached, 1);
        LogStarted(o.Instance);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Packets are handled in the kernel; the service only has to hold the attachment.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Host is stopping; StopAsync detaches.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken);
        }
        finally
        {
            Detach();
        }
    }

    public override void Dispose()
    {
        // Reached without StopAsync when host start fails after this service started.
        Detach();
        base.Dispose();
    }

    private void Detach()
    {
        if (Interlocked.Exchange(ref _attached, 0) == 0)
            return;
        LogFinalCounters();
        try
        {
            datapath.Stop();
            LogStopped(options.Value.Instance);
        }
        catch (Exception e)
        {
            LogStopFailed(e, options.Value.Instance);
        }
    }

    private void LogFinalCounters()
    {
        try
        {
            var c = datapath.ReadCounters();
            ulong Get(Counter counter) => c.TryGetValue(counter, out ulong v) ? v : 0;
            LogCounters(Get(Counter.RxPopped) + Get(Counter.RxDuplicateKey), Get(Counter.TxRestored) + Get(Counter.TxRestoredLast),
                Get(Counter.TxMissDrop) + Get(Counter.TxMissPass) + Get(Counter.TxMissStatic));
        }
        catch (Exception e)
        {
            // Counters are a courtesy at shutdown; never let them block the detach.
            LogCountersUnavailable(e.Message);
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "Starting SfcProxy instance {Instance}: key mode {KeyMode}, ingress {Ingress}, egress {Egress}, VNF {Vnf}")]
    private partial void LogStarting(string instance, string keyMode, string? ingress, string? egress, string vnf);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "SfcProxy instance {Instance} attached")]
    private partial void LogStarted(string instance);

    [LoggerMessage(EventId = 102, Level = LogLevel.Critical, Message = "SfcProxy instance {Instance} failed to start; nothing attached")]
    private partial void LogStartFailed(Exception exception, string instance);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "SfcProxy instance {Instance} detached")]
    private partial void LogStopped(string instance);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "SfcProxy instance {Instance} failed to detach cleanly")]
    private partial void LogStopFailed(Exception exception, string instance);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information,
        Message = "Final counters: {Popped} packets popped, {Restored} restored, {Missed} missed at egress")]
    private partial void LogCounters(ulong popped, ulong restored, ulong missed);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "Final counters unavailable: {Reason}")]
    private partial void LogCountersUnavailable(string reason);
}
