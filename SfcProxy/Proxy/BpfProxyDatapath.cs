using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Datapath;
using SfcProxy.Net;

namespace SfcProxy.Proxy;

/// <summary>
/// The SR-MPLS proxy in the kernel: xdp_rx on the ingress (pop + cache), meta_mark on the ingress
/// tc hook (metadata key mode only), tc_tx on the egress (restore), all sharing the maps pinned
/// under &lt;PinRoot&gt;/&lt;Instance&gt;/.
/// </summary>
public sealed partial class BpfProxyDatapath : IProxyDatapath
{
    private readonly SfcProxyOptions _options;
    private readonly ILogger<BpfProxyDatapath> _log;
    private readonly List<BpfLink> _links = [];
    private ProxyObjects? _objects;
    private CacheAging? _aging;
    // Held by a sweep and by the part of Stop that closes the maps, so a sweep never runs on a
    // closed map fd.
    private readonly Lock _mapsLock = new();
    private volatile bool _attached;
    private bool? _groBefore;

    public BpfProxyDatapath(IOptions<SfcProxyOptions> options, ILogger<BpfProxyDatapath> log)
    {
        _options = options.Value;
        _log = log;
    }

    public void Start()
    {
        var o = _options;
        BpfEnvironment.EnsureReady(o.PinRoot);
        try
        {
            // Validated options always name both interfaces.
            var ingressName = o.Interfaces.Ingress!;
            var ingress = NetDevice.IfIndex(ingressName);
            var egress = NetDevice.IfIndex(o.Interfaces.Egress!);
            _objects = ProxyObjects.Load(new BpfPins(o.Instance, o.PinRoot), o.KeyMode, (uint)o.Cache.Size);
            _objects.WriteConfig(BuildConfig(o, NetDevice.HardwareAddress(o.Interfaces.Egress!)));
            if (o.Interfaces.Vnf is { } vnf)
                _objects.VnfPort.Update(0u, (uint)NetDevice.IfIndex(vnf));

            if (o.DisableGro)
            {
                // GRO runs after XDP and would merge popped packets into one skb carrying one
                // packet's key; the old setting comes back on stop.
                _groBefore = NetDevice.GetGro(ingressName);
                if (_groBefore == true)
                    NetDevice.SetGro(ingressName, false);
            }

            // Restore first, pop last: from the first popped packet on, its way back is in place.
            _links.Add(_objects.Tx.AttachTc(egress, TcDirection.Egress));
            if (o.KeyMode == KeyMode.Metadata)
                _links.Add(_objects.Mark.AttachTc(ingress, TcDirection.Ingress));
            _links.Add(_objects.Rx.AttachXdp(ingress, o.XdpMode == XdpMode.Generic ? XdpAttachMode.Generic : XdpAttachMode.Native));

            _attached = true;
            LogAttached(o.Instance, ingressName, o.Interfaces.Egress!, OptionValues.KeyModes.NameOf(o.KeyMode),
                _objects.Pins.Directory);
        }
        catch
        {
            Stop();
            throw;
        }
    }

    internal static SfcConfig BuildConfig(SfcProxyOptions o, byte[] egressMac)
    {
        var config = new SfcConfig
        {
            KeyMode = (uint)o.KeyMode,
            MissPolicy = (uint)o.MissPolicy,
            ConsumedSegments = (uint)o.ConsumedSegments,
        };
        var stack = LabelEntryOptions.EncodeStack(o.StaticStack);
        config.StaticLabelCount = (uint)stack.Length;
        foreach (var encap in o.Encapsulations)
            config.AcceptedEncaps |= 1u << (int)encap;
        unsafe
        {
            for (var i = 0; i < stack.Length; i++)
                config.StaticLabels[i] = stack[i];
            // An NSH packet whose next protocol is Ethernet gets a new outer Ethernet header.
            egressMac.CopyTo(new Span<byte>(config.EgressMac, 6));
            if (o.Nsh.NextHopMac is { } mac && NshOptions.TryParseMac(mac, out var nextHop))
                nextHop.CopyTo(new Span<byte>(config.NshNextHopMac, 6));
        }
        return config;
    }

    public void Stop()
    {
        _attached = false;
        // Stop popping before stopping restores, so no packet is popped without its way back.
        for (var i = _links.Count - 1; i >= 0; i--)
            _links[i].Dispose();
        _links.Clear();

        if (_groBefore == true)
        {
            var ingress = _options.Interfaces.Ingress!;
            try { NetDevice.SetGro(ingress, true); }
            catch (BpfException e) { LogGroRestoreFailed(ingress, e.Message); }
        }
        _groBefore = null;

        BpfPins? removed = null;
        lock (_mapsLock)
        {
            if (_objects is not null)
            {
                removed = _objects.Pins;
                _objects.Dispose();
                _objects = null;
                _aging = null;
            }
        }
        if (removed is not null)
        {
            removed.Remove();
            LogDetached(_options.Instance);
        }
    }

    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => Objects.ReadCounters();

    public LatencyReport ReadLatency() => Objects.ReadLatency();

    public CacheSummary ReadCacheSummary()
    {
        var cache = Objects.Cache(_options.KeyMode);
        return new CacheSummary(OptionValues.KeyModes.NameOf(_options.KeyMode), cache.Count(), cache.MaxEntries);
    }

    public CacheSweepResult? SweepCache(TimeSpan maxAge)
    {
        lock (_mapsLock)
        {
            if (!_attached || _objects is null)
                return null;
            _aging ??= new CacheAging(_objects.Cache(_options.KeyMode));
            return _aging.Sweep(maxAge);
        }
    }

    private ProxyObjects Objects => _objects ?? throw new InvalidOperationException("the datapath is not attached");

    public void Dispose() => Stop();

    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "instance {Instance}: xdp_rx on {Ingress}, tc_tx on {Egress}, key mode {KeyMode}, maps pinned in {PinDirectory}")]
    private partial void LogAttached(string instance, string ingress, string egress, string keyMode, string pinDirectory);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "instance {Instance}: detached, pins removed")]
    private partial void LogDetached(string instance);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "could not turn GRO back on for {Interface}: {Reason}")]
    private partial void LogGroRestoreFailed(string @interface, string reason);
}
