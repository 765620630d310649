using System.Globalization;
using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// Metadata key mode: xdp_rx claims a slot of sfc_meta_cache (<see cref="MetadataSlots"/>) and the
/// slot's key rides with the packet as XDP metadata, then skb->mark (meta_mark). In-kernel VNFs in
/// the same network namespace only. The datapath ages the slots itself (a slot older than
/// Cache:MaxAge is taken over), so the host only reads them.
/// </summary>
internal sealed class MetadataKeyMode : ICacheKeyMode
{
    public static readonly MetadataKeyMode Instance = new();

    private MetadataKeyMode()
    {
    }

    public KeyMode Mode => KeyMode.Metadata;

    public bool MarksIngress => true;

    public bool AgesInDatapath => true;

    public void SizeCaches(BpfObject obj, uint cacheSize)
    {
        obj.SetMaxEntries(SfcBpfNames.Maps.MetaCache, MetadataSlots.Capacity(cacheSize));
        obj.SetMaxEntries(SfcBpfNames.Maps.HashCache, 1);
    }

    public BpfMap Cache(ProxyObjects objects) => objects.MetaCache;

    public IReadOnlyList<CacheEntryView> Dump(BpfMap cache, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        long now = HeaderCacheEntries.MonotonicNanoseconds();
        // The key shown is the slot's owner: the metadata key its packet carries in the
        // Metadata:MarkMask bits of skb->mark (slot index + 1, generation above).
        return MetadataSlots.Occupied(cache).Take(limit)
            .Select(o => HeaderCacheEntries.View(o.Entry.Owner.ToString(CultureInfo.InvariantCulture), o.Entry, now))
            .ToList();
    }

    public int Count(BpfMap cache) => MetadataSlots.Count(cache);

    /// <summary>Frees every occupied slot, racing the datapath (see <see cref="MetadataSlots.Clear"/>).</summary>
    public int Flush(BpfMap cache) => MetadataSlots.Clear(cache);
}
