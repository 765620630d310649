using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// What the key mode changes on the host side of the SFC proxy: which cache map holds the headers
/// and how it is sized, whether meta_mark runs, who ages the entries, and how entries are listed,
/// counted and flushed. Chosen once from SfcProxy:KeyMode (<see cref="For"/>): by
/// <see cref="ProxyObjects.Load"/>, which keeps it, and by <see cref="CacheAgingService"/> at start
/// (KeyMode needs a restart); nothing else asks which mode runs. The datapath reads the mode from
/// sfc_config.
/// </summary>
internal interface ICacheKeyMode
{
    KeyMode Mode { get; }

    /// <summary>meta_mark runs on the ingress tc hook: it moves the key xdp_rx left in the XDP metadata
    /// into skb->mark, where tc_tx finds it.</summary>
    bool MarksIngress { get; }

    /// <summary>The datapath ages the cache itself, so the host never sweeps it (<see cref="CacheAging"/>).</summary>
    bool AgesInDatapath { get; }

    /// <summary>Sizes both caches of an object before its load for Cache:Size
    /// <paramref name="cacheSize"/>; the other mode's cache gets one entry, since it stays empty.</summary>
    void SizeCaches(BpfObject obj, uint cacheSize);

    /// <summary>The map that holds the cached headers in this mode.</summary>
    BpfMap Cache(ProxyObjects objects);

    /// <summary>Up to <paramref name="limit"/> entries of <paramref name="cache"/>, in map order.</summary>
    IReadOnlyList<CacheEntryView> Dump(BpfMap cache, int limit);

    /// <summary>Header sets cached now.</summary>
    int Count(BpfMap cache);

    /// <summary>Deletes every entry present now; returns how many this call deleted.</summary>
    int Flush(BpfMap cache);

    static ICacheKeyMode For(KeyMode mode) => mode switch
    {
        KeyMode.Metadata => MetadataKeyMode.Instance,
        KeyMode.HeaderHash => HeaderHashKeyMode.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "no such key mode"),
    };
}
