using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Options;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Hosting;
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
    private byte[] _egressMac = new byte[6];
    // Between Start and Commit: what the start changed, to put back if the host does not start.
    private StartJournal? _journal;
    // Pinned links of an earlier daemon this start did not take over: detached at Commit.
    private readonly List<string> _obsolete = [];
    // Started and not yet stopped or rolled back.
    private bool _running;

    public BpfProxyDatapath(IOptions<SfcProxyOptions> options, ILogger<BpfProxyDatapath> log)
    {
        _options = options.Value;
        _log = log;
    }

    /// <summary>Applies the reloadable settings (miss policy, static stack, consumed segments,
    /// encapsulations, NSH next hop, latency sampling) to the running datapath without detaching.</summary>
    public void Reconfigure(SfcProxyOptions options)
    {
        lock (_mapsLock)
            Objects.WriteConfig(BuildConfig(options, _egressMac));
    }

    /// <summary>
    /// Shortest Cache:MaxAge with which xdp_rx stamps pop times from the coarse clock
    /// (sfc_config.coarse_clock): the last tick's time, at most one tick (&lt;= 10 ms) behind, so an
    /// entry ages out up to one tick early, at most 1 % of a MaxAge of 1 s; the precise clock costs
    /// ~60 ns more per packet on the kvm-clock VMs this runs on (vm-lab/results/core-bench.md).
    /// Latency samples always take the precise clock.
    /// </summary>
    internal static readonly TimeSpan CoarseClockMinMaxAge = TimeSpan.FromSeconds(1);

    internal static bool CoarseClockFor(TimeSpan maxAge) => maxAge >= CoarseClockMinMaxAge;

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
            CoarseClock = CoarseClockFor(o.Cache.MaxAge) ? 1u : 0u,
        };
        var stack = LabelEntryOptions.EncodeStack(o.StaticStack);
        config.StaticLabelCount = (uint)stack.Length;
        foreach (var encap in o.Encapsulations)
            config.AcceptedEncaps |= 1u << (int)encap;
        config = Srv6Config.Encode(o.Srv6, config);
        unsafe
        {
            for (var i = 0; i < stack.Length; i++)
                config.StaticLabels[i] = stack[i];
            // An NSH packet whose next protocol is Ethernet gets a new outer Ethernet header.
            egressMac.CopyTo(new Span<byte>(config.EgressMac, 6));
            if (o.Nsh.NextHopMac is { } mac && MacAddressText.TryParse(mac, out var nextHop))
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

    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => Objects.ReadCounters();

    public LatencyReport ReadLatency() => Objects.ReadLatency();

    public CacheSummary ReadCacheSummary()
    {
        var objects = Objects;
        var cache = objects.Cache;
        return new CacheSummary(OptionValues.KeyModes.NameOf(objects.CacheKeyMode.Mode),
            objects.CacheKeyMode.Count(cache), cache.MaxEntries);
    }

    public CacheSweepResult? SweepCache(TimeSpan maxAge)
    {
        lock (_mapsLock)
        {
            // A mode that ages in the datapath (CacheAging) leaves the host nothing to sweep.
            if (!_attached || _objects is null || _objects.CacheKeyMode.AgesInDatapath)
                return null;
            _aging ??= new CacheAging(_objects);
            return _aging.Sweep(maxAge);
        }
    }

    // Under the maps lock like the sweep: a stop never closes the map under a dump or a flush.
    public IReadOnlyList<CacheEntryView> DumpCache(int limit)
    {
        lock (_mapsLock)
            return Objects.CacheKeyMode.Dump(Objects.Cache, limit);
    }

    public int FlushCache()
    {
        lock (_mapsLock)
            return Objects.CacheKeyMode.Flush(Objects.Cache);
    }

    private ProxyObjects Objects => _objects ?? throw new InvalidOperationException("the datapath is not attached");

    /// <summary>Rolls back a start that was not kept, else stops as configured; never throws (the
    /// failures of a detach are logged step by step).</summary>
    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (TeardownException)
        {
        }
    }
}
