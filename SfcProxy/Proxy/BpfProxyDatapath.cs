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
    private byte[] _egressMac = new byte[6];

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
            var egressName = o.Interfaces.Egress!;
            var ingress = NetDevice.IfIndex(ingressName);
            var egress = NetDevice.IfIndex(egressName);
            var pins = new BpfPins(o.Instance, o.PinRoot);
            _objects = ProxyObjects.Load(pins, o.KeyMode, (uint)o.Cache.Size);
            _egressMac = NetDevice.HardwareAddress(egressName);
            _objects.WriteConfig(BuildConfig(o, _egressMac));
            if (o.Interfaces.Vnf is { } vnf)
                _objects.VnfPort.Update(0u, (uint)NetDevice.IfIndex(vnf));

            // Restore first, pop last: from the first popped packet on, its way back is in place.
            // Links an earlier daemon left pinned are taken over (program swapped in, maps kept).
            var takenOver = 0;
            void Attach(BpfProgram program, string ifname, Func<BpfLink> attach)
            {
                var (link, tookOver) = ProxyLinks.AttachOrTakeOver(pins, program, ifname, attach);
                _links.Add(link);
                takenOver += tookOver ? 1 : 0;
            }
            Attach(_objects.Tx, egressName, () => _objects.Tx.AttachTc(egress, TcDirection.Egress));
            if (o.KeyMode == KeyMode.Metadata)
                Attach(_objects.Mark, ingressName, () => _objects.Mark.AttachTc(ingress, TcDirection.Ingress));
            else
                ProxyLinks.DetachPinned(pins, ProxyObjects.MarkName);
            if (o.DisableGro)
                TurnGroOff(ingressName, tookOver: File.Exists(pins.Path(ProxyLinks.PinName(ProxyObjects.RxName, ingressName))));
            Attach(_objects.Rx, ingressName,
                () => _objects.Rx.AttachXdp(ingress, o.XdpMode == XdpMode.Generic ? XdpAttachMode.Generic : XdpAttachMode.Native));

            _attached = true;
            if (takenOver > 0)
                LogTookOver(o.Instance, takenOver);
            LogAttached(o.Instance, ingressName, egressName, OptionValues.KeyModes.NameOf(o.KeyMode), pins.Directory);
        }
        catch
        {
            Stop(detach: true);
            throw;
        }
    }

    /// <summary>
    /// GRO runs after XDP and would merge popped packets into one skb carrying one packet's key: it
    /// is off while the proxy is attached. The setting found before the first attach is kept in a
    /// file beside the socket, so that a daemon taking over (which finds GRO already off) still
    /// restores the operator's setting when it finally detaches.
    /// </summary>
    private void TurnGroOff(string ingress, bool tookOver)
    {
        var state = GroStatePath;
        if (tookOver)
            _groBefore = GroNote.Read(state); // null: an earlier daemon turned it off and left no note: leave it alone
        else
        {
            _groBefore = NetDevice.GetGro(ingress);
            GroNote.Write(state, _groBefore.Value);
        }
        if (NetDevice.GetGro(ingress))
            NetDevice.SetGro(ingress, false);
    }

    private string GroStatePath => GroNote.PathFor(_options.SocketPath, _options.Instance);

    /// <summary>Applies the reloadable settings (miss policy, static stack, consumed segments,
    /// encapsulations, NSH next hop, latency sampling) to the running datapath without detaching.</summary>
    public void Reconfigure(SfcProxyOptions options)
    {
        lock (_mapsLock)
            Objects.WriteConfig(BuildConfig(options, _egressMac));
    }

    internal static SfcConfig BuildConfig(SfcProxyOptions o, byte[] egressMac)
    {
        var config = new SfcConfig
        {
            KeyMode = (uint)o.KeyMode,
            MissPolicy = (uint)o.MissPolicy,
            ConsumedSegments = (uint)o.ConsumedSegments,
            LatencySampleEvery = (uint)o.LatencySampleEvery,
            // Metadata mode ages in the datapath: a slot this old is taken over (CacheAging).
            MetaMaxAgeNs = (ulong)o.Cache.MaxAge.Ticks * 100UL,
            MetaMarkMask = o.Metadata.MarkMask,
            MetaMarkShift = MetadataOptions.Shift(o.Metadata.MarkMask),
            MetaFingerprint = (uint)o.Metadata.Fingerprint,
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
            // The too-big rule's ICMP errors come from the egress interface's addresses (none: the
            // quoted packet's destination).
            var (v4, v6) = NetDevice.Addresses(o.Interfaces.Egress);
            if (v4 is not null)
                v4.GetAddressBytes().CopyTo(new Span<byte>(&config.IcmpSrc4, 4));
            if (v6 is not null)
                v6.GetAddressBytes().CopyTo(new Span<byte>(config.IcmpSrc6, 16));
        }
        return config;
    }

    /// <summary>Stops as configured: detaches (DetachOnStop) or leaves the datapath attached and pinned.</summary>
    public void Stop() => Stop(_options.DetachOnStop);

    private void Stop(bool detach)
    {
        _attached = false;
        // Links were added restore-first; going backwards stops popping before restoring.
        for (var i = _links.Count - 1; i >= 0; i--)
        {
            if (detach)
                _links[i].Unpin();
            _links[i].Dispose(); // a link still pinned stays attached
        }
        _links.Clear();

        if (detach)
            RestoreGro();
        BpfPins? pins = null;
        lock (_mapsLock)
        {
            if (_objects is not null)
            {
                pins = _objects.Pins;
                _objects.Dispose();
                _objects = null;
                _aging = null;
            }
        }
        if (pins is null)
            return;
        if (detach)
        {
            ProxyLinks.DetachAll(pins); // links an earlier daemon pinned that this one did not take over
            pins.Remove();
            LogDetached(_options.Instance);
        }
        else
        {
            LogLeftAttached(_options.Instance, pins.Directory);
        }
    }

    private void RestoreGro()
    {
        if (_groBefore == true)
        {
            var ingress = _options.Interfaces.Ingress!;
            try { NetDevice.SetGro(ingress, true); }
            catch (BpfException e) { LogGroRestoreFailed(ingress, e.Message); }
        }
        _groBefore = null;
        if (_options.DisableGro)
            File.Delete(GroStatePath);
    }

    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => Objects.ReadCounters();

    public LatencyReport ReadLatency() => Objects.ReadLatency();

    public CacheSummary ReadCacheSummary()
    {
        var cache = Objects.Cache(_options.KeyMode);
        return new CacheSummary(OptionValues.KeyModes.NameOf(_options.KeyMode),
            HeaderCacheEntries.Count(cache, _options.KeyMode), cache.MaxEntries);
    }

    public CacheSweepResult? SweepCache(TimeSpan maxAge)
    {
        lock (_mapsLock)
        {
            // Metadata mode ages in the datapath (CacheAging): nothing for the host to sweep.
            if (!_attached || _objects is null || _options.KeyMode == KeyMode.Metadata)
                return null;
            _aging ??= new CacheAging(_objects.HashCache);
            return _aging.Sweep(maxAge);
        }
    }

    // Under the maps lock like the sweep: a stop never closes the map under a dump or a flush.
    public IReadOnlyList<CacheEntryView> DumpCache(int limit)
    {
        lock (_mapsLock)
            return HeaderCacheEntries.Dump(Objects.Cache(_options.KeyMode), _options.KeyMode, limit);
    }

    public int FlushCache()
    {
        lock (_mapsLock)
            return HeaderCacheEntries.Flush(Objects.Cache(_options.KeyMode), _options.KeyMode);
    }

    private ProxyObjects Objects => _objects ?? throw new InvalidOperationException("the datapath is not attached");

    public void Dispose() => Stop();

    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "instance {Instance}: xdp_rx on {Ingress}, tc_tx on {Egress}, key mode {KeyMode}, maps pinned in {PinDirectory}")]
    private partial void LogAttached(string instance, string ingress, string egress, string keyMode, string pinDirectory);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "instance {Instance}: detached, pins removed")]
    private partial void LogDetached(string instance);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information,
        Message = "instance {Instance}: took over {Links} pinned link(s) of an earlier daemon; cached headers kept")]
    private partial void LogTookOver(string instance, int links);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information,
        Message = "instance {Instance}: left attached (DetachOnStop false); pins in {PinDirectory}; `sfcproxy detach --instance {Instance}` removes them")]
    private partial void LogLeftAttached(string instance, string pinDirectory);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "could not turn GRO back on for {Interface}: {Reason}")]
    private partial void LogGroRestoreFailed(string @interface, string reason);
}
