using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>Applies the configured DSR services when the host starts (tables, then XDP attach), with the
/// live changes of the state file on top (an unreadable state file stops the start); later changes come
/// through <c>dsr-backend</c> and SIGHUP. Then sweeps the removing backends every
/// <see cref="ActiveDsr.SweepInterval"/> (purging those whose flows are gone). The datapath
/// singleton detaches when the host disposes it.</summary>
public sealed partial class DsrLoadBalancerService(ActiveDsr dsr, ILogger<DsrLoadBalancerService> log) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            dsr.Start();
        }
        catch (DsrStateFileException e)
        {
            // Refused rather than started from the config alone: that would undo the operator's
            // drains and removals in the kernel, while refusing leaves a datapath that outlived the
            // last daemon forwarding with them.
            throw new InvalidOperationException($"{e.Message}. Not started: starting from the config file alone would undo the live " +
                "backend changes it keeps (drains, removals); a load balancer left attached keeps its tables meanwhile. " +
                $"Repair the file, or move it away to drop the live changes, and start again", e);
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(dsr.SweepInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    dsr.Sweep();
                }
                catch (Exception e) when (e is BpfException or ArgumentException or InvalidOperationException)
                {
                    // The next sweep tries again; the removing backends keep their slots meanwhile.
                    LogSweepFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = Hosting.EventIds.DsrSweepFailed, Level = LogLevel.Error, Message = "DSR sweep of removing backends failed; retried at the next interval")]
    private partial void LogSweepFailed(Exception e);
}

/// <summary>
/// The backend side: dsr_decap at tc ingress of <c>SfcProxy:Dsr:Decap:Interface</c>, decapsulating
/// IP-in-IP to <c>Decap:Vips</c> (pins under &lt;PinRoot&gt;/&lt;Instance&gt;-dsr-decap/). The VIPs
/// belong on the backend's loopback (see the README). Detaches and removes the pins when stopped.
/// </summary>
public sealed partial class DsrDecapService(IOptions<SfcProxyOptions> options, ILogger<DsrDecapService> log) : IHostedService, IDisposable
{
    private readonly Lock _gate = new();
    private DsrDecapObjects? _objects;
    private BpfLink? _link;

    /// <summary>The loaded objects, null when not started.</summary>
    public DsrDecapObjects? Objects
    {
        get
        {
            lock (_gate)
                return _objects;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var decap = o.Dsr.Decap ?? throw new InvalidOperationException("SfcProxy:Dsr:Decap is not set");
        lock (_gate)
        {
            BpfEnvironment.EnsureReady(o.PinRoot);
            var objects = DsrDecapObjects.Load(new BpfPins($"{o.Instance}-dsr-decap", o.PinRoot));
            try
            {
                objects.SetVips(decap.Vips.Select(System.Net.IPAddress.Parse));
                _link = objects.Attach(decap.Interface!);
            }
            catch
            {
                objects.Dispose();
                objects.Pins.Remove();
                throw;
            }
            _objects = objects;
            LogAttached(decap.Interface!, string.Join(", ", decap.Vips), objects.Pins.Directory);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _link?.Dispose();
            _link = null;
            PinnedObjects.Unload(ref _objects);
        }
    }

    [LoggerMessage(EventId = Hosting.EventIds.DsrDecapAttached, Level = LogLevel.Information, Message = "dsr_decap attached at tc ingress of {Interface} for VIPs {Vips}; maps pinned in {PinDirectory}")]
    private partial void LogAttached(string @interface, string vips, string pinDirectory);
}
