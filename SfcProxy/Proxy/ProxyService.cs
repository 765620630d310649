using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Hosting;

namespace SfcProxy.Proxy;

/// <summary>
/// Owns the datapath's attachment for the life of the host: started in <see cref="StartAsync"/>,
/// kept once the whole host has started (every later service, the control socket included), put
/// back as found if the host does not start, and stopped as configured on stop or dispose.
/// </summary>
/// <param name="lifetime">Tells when the host has started; without one (tests) the start is kept at once.</param>
/// <param name="shutdownFailures">Where a stop that failed is reported for the exit code.</param>
public sealed partial class ProxyService(
    IProxyDatapath datapath, IOptions<SfcProxyOptions> options, ILogger<ProxyService> logger,
    IHostApplicationLifetime? lifetime = null, ShutdownFailures? shutdownFailures = null) : BackgroundService
{
    private const int Idle = 0, Started = 1, Kept = 2, Done = 3;
    private int _state;

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
            LogStartFailed(o.Instance, e.Message);
            throw;
        }
        Volatile.Write(ref _state, Started);
        LogStarted(o.Instance);
        if (lifetime is null)
            Keep();
        else
            lifetime.ApplicationStarted.Register(Keep);
        await base.StartAsync(cancellationToken);
    }

    private void Keep()
    {
        if (Interlocked.CompareExchange(ref _state, Kept, Started) == Started)
            datapath.Commit();
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
            Finish();
        }
    }

    public override void Dispose()
    {
        // Reached without StopAsync when host start fails after this service started.
        Finish();
        base.Dispose();
    }

    private void Finish()
    {
        switch (Interlocked.Exchange(ref _state, Done))
        {
            case Started:
                // The host never finished starting: give back what the start found.
                datapath.RollBack();
                break;
            case Kept:
                Stop();
                break;
        }
    }

    private void Stop()
    {
        LogFinalCounters();
        try
        {
            datapath.Stop();
            LogStopped(options.Value.Instance);
        }
        catch (Exception e)
        {
            LogStopFailed(options.Value.Instance, e.Message);
            shutdownFailures?.Add(e.Message);
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

    [LoggerMessage(EventId = Hosting.EventIds.ProxyStarting, Level = LogLevel.Information,
        Message = "Starting SfcProxy instance {Instance}: key mode {KeyMode}, ingress {Ingress}, egress {Egress}, VNF {Vnf}")]
    private partial void LogStarting(string instance, string keyMode, string? ingress, string? egress, string vnf);

    [LoggerMessage(EventId = Hosting.EventIds.ProxyStarted, Level = LogLevel.Information, Message = "SfcProxy instance {Instance} attached")]
    private partial void LogStarted(string instance);

    [LoggerMessage(EventId = Hosting.EventIds.ProxyStartFailed, Level = LogLevel.Critical,
        Message = "SfcProxy instance {Instance} failed to start, and left what it found as it was: {Reason}")]
    private partial void LogStartFailed(string instance, string reason);

    [LoggerMessage(EventId = Hosting.EventIds.ProxyStopped, Level = LogLevel.Information, Message = "SfcProxy instance {Instance} stopped")]
    private partial void LogStopped(string instance);

    [LoggerMessage(EventId = Hosting.EventIds.ProxyStopFailed, Level = LogLevel.Error, Message = "SfcProxy instance {Instance} did not stop cleanly: {Reason}")]
    private partial void LogStopFailed(string instance, string reason);

    [LoggerMessage(EventId = Hosting.EventIds.FinalCounters, Level = LogLevel.Information,
        Message = "Final counters: {Popped} packets popped, {Restored} restored, {Missed} missed at egress")]
    private partial void LogCounters(ulong popped, ulong restored, ulong missed);

    [LoggerMessage(EventId = Hosting.EventIds.FinalCountersUnavailable, Level = LogLevel.Debug, Message = "Final counters unavailable: {Reason}")]
    private partial void LogCountersUnavailable(string reason);
}
