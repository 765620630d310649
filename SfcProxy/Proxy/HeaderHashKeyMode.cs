using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// Header-hash key mode: the key is built from inner header fields the VNF does not change and is
/// stored with the entry (sfc_hash_cache, a hash map of Cache:Size entries). Works with user-mode
/// VNFs; the host ages the cache (<see cref="CacheAgingService"/> runs hash_age).
/// </summary>
internal sealed class HeaderHashKeyMode : ICacheKeyMode
{
    public static readonly HeaderHashKeyMode Instance = new();

    private HeaderHashKeyMode()
    {
    }

    public KeyMode Mode => KeyMode.HeaderHash;

    // The key rides in the packet's own headers: nothing to carry in skb->mark.
    public bool MarksIngress => false;

    public bool AgesInDatapath => false;

    public void SizeCaches(BpfObject obj, uint cacheSize)
    {
        obj.SetMaxEntries(SfcBpfNames.Maps.MetaCache, 1);
        obj.SetMaxEntries(SfcBpfNames.Maps.HashCache, cacheSize);
    }

    public BpfMap Cache(ProxyObjects objects) => objects.HashCache;

    public IReadOnlyList<CacheEntryView> Dump(BpfMap cache, int limit) =>
        // the map's key is the flow key's tag; the entry holds the flow key itself
        HeaderCacheEntries.Dump<ulong>(cache, limit, (_, entry) => HeaderCacheEntries.Describe(entry.Key));

    public int Count(BpfMap cache) => cache.Count();

    public int Flush(BpfMap cache) => HeaderCacheEntries.Flush<ulong>(cache);
}
