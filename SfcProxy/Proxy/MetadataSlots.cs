using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// The metadata-mode cache as the host sees it: a BPF array of slots, one ring per CPU, each slot
/// owned by the metadata key of the packet whose headers it holds (<see cref="SfcCacheEntry.Owner"/>:
/// slot index + 1 and the claim's generation, 0 = free). The datapath claims and releases slots with compare-and-swap; user space cannot, so
/// the host only reads them, except for <see cref="Clear"/> (an admin flush).
/// </summary>
internal static class MetadataSlots
{
    /// <summary>Slots per BPF_MAP_LOOKUP_BATCH call (an array batch never needs more room than asked).</summary>
    private const int BatchSize = 1024;

    /// <summary>Rings: one per possible CPU, at most 256 (the key's CPU byte; CPUs above share).</summary>
    public static uint Rings => (uint)Math.Min(BpfMap.PossibleCpuCount, SfcLimits.MetaMaxRings);

    /// <summary>
    /// Slots of the array for Cache:Size <paramref name="cacheSize"/>: rounded down to a multiple of
    /// the rings so each CPU gets cacheSize / CPUs slots, and at least one slot per ring.
    /// </summary>
    public static uint Capacity(uint cacheSize) => Math.Max(1, cacheSize / Rings) * Rings;

    /// <summary>sfc_config.meta_slots_per_cpu for an array of <paramref name="maxEntries"/> slots.</summary>
    public static uint PerRing(uint maxEntries) => maxEntries / Rings;

    /// <summary>
    /// sfc_config.meta_index_bits: the key's low bits that hold a slot index + 1 (1..maxEntries);
    /// the mark bits above them carry the slot's generation.
    /// </summary>
    public static uint IndexBits(uint maxEntries) => (uint)System.Numerics.BitOperations.Log2(maxEntries) + 1;

    /// <summary>The slot a metadata key (the value in the mark's key bits) names.</summary>
    public static uint SlotOf(uint key, uint indexBits) => (key & ((1u << (int)indexBits) - 1)) - 1;

    /// <summary>
    /// Writes every slot of a metadata cache this load has just created (all zero, as it already
    /// is), so the memory behind it is touched once now. Where guest memory is backed lazily (the
    /// VMs this runs on), the first write to each page of a large map costs about 10 microseconds;
    /// the ring walks every slot, so without this the first pass over it paid that once every
    /// 11 packets (sfcproxy bench: a p99 of 15 us and a mean twice the median). Never call it on a
    /// reused map: it would free slots whose packets are in the VNF.
    /// </summary>
    public static void Prefault(BpfMap freshCache)
    {
        var keys = new uint[BatchSize];
        var values = new SfcCacheEntry[BatchSize];
        for (uint first = 0; first < freshCache.MaxEntries; first += BatchSize)
        {
            var n = (int)Math.Min(BatchSize, freshCache.MaxEntries - first);
            for (var i = 0; i < n; i++)
                keys[i] = first + (uint)i;
            freshCache.UpdateBatch<uint, SfcCacheEntry>(keys.AsSpan(0, n), values.AsSpan(0, n));
        }
    }

    /// <summary>Every occupied slot (owner set) with its index, in index order.</summary>
    public static IEnumerable<(uint Index, SfcCacheEntry Entry)> Occupied(BpfMap cache)
    {
        var keys = new uint[BatchSize];
        var values = new SfcCacheEntry[BatchSize];
        var cursor = new MapBatchCursor();
        while (!cursor.Finished)
        {
            int read = cache.LookupBatch<uint, SfcCacheEntry>(cursor, keys, values);
            for (int i = 0; i < read; i++)
            {
                if (values[i].Owner != 0)
                    yield return (keys[i], values[i]);
            }
        }
    }

    /// <summary>Occupied slots now.</summary>
    public static int Count(BpfMap cache) => Occupied(cache).Count();

    /// <summary>
    /// Frees every occupied slot by writing a zeroed entry. Not atomic against the datapath: a slot
    /// xdp_rx claims again between this read and write is freed too, and its packet then misses at
    /// egress, as do the packets whose entries the flush meant to drop. Returns the slots freed.
    /// </summary>
    public static int Clear(BpfMap cache)
    {
        var indices = Occupied(cache).Select(o => o.Index).ToList();
        var empty = default(SfcCacheEntry);
        foreach (var index in indices)
            cache.Update(index, empty);
        return indices.Count;
    }
}
