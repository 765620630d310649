using System.Diagnostics;
using SfcProxy.Bpf;
using SfcProxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>What one aging sweep did.</summary>
/// <param name="Scanned">Entries read (the cache's occupancy during the sweep).</param>
/// <param name="AgedOut">Entries deleted because they were older than the age limit.</param>
/// <param name="Elapsed">Wall time of the sweep.</param>
public readonly record struct CacheSweepResult(int Scanned, int AgedOut, TimeSpan Elapsed);

/// <summary>
/// Ages out header-cache entries whose packet never came back from the VNF.
/// <para>
/// xdp_rx caches every popped packet's headers and tc_tx deletes the entry when the packet leaves
/// the VNF; a packet the VNF drops (filtered, policed, queue overflow, crash) leaves its entry
/// behind. One sweep walks the whole cache with BPF_MAP_LOOKUP_BATCH and deletes, with
/// BPF_MAP_DELETE_BATCH, every entry whose <c>ingress_ns</c> (bpf_ktime_get_ns() at pop, i.e.
/// CLOCK_MONOTONIC) is older than now - maxAge. "Now" is read once, before the walk, from the same
/// clock (<see cref="MonotonicClock"/>), so entries created during the sweep are never eligible.
/// </para>
/// <para>
/// <b>Race rule.</b> An entry whose packet is still inside the VNF after maxAge is considered lost
/// and is deleted; if the packet comes out later, tc_tx finds no entry and applies the miss policy
/// (counted tx_miss_*). maxAge must therefore exceed the VNF's worst holding time (queueing,
/// shaping, user-space scheduling). Conversely tc_tx may delete an entry between this sweep's
/// lookup and its delete: that ENOENT is expected and skipped, never an error. Each chunk of keys
/// is deleted right after it is read, so the window in which a header-hash key could be freed by
/// tc_tx and reused by a new identical packet (which this sweep would then delete) is one batch
/// syscall long; metadata keys are never reused that quickly.
/// </para>
/// <para>
/// <b>Header-hash mode only.</b> The metadata cache (sfc_meta_cache, an array of slots claimed and
/// released with compare-and-swap) ages in the datapath: xdp_rx takes over a slot whose entry is
/// older than Cache:MaxAge when its ring comes round to it (counted meta_aged_out). User space
/// cannot compare-and-swap, and zeroing a slot could free one xdp_rx has just claimed, so the host
/// never ages it (<see cref="CacheAgingService"/> does not sweep in metadata mode).
/// </para>
/// <para>
/// <b>Cache full.</b> In header-hash mode the cache is a plain (non-LRU) hash map of Cache:Size entries. When it is
/// full, xdp_rx's insert is refused: the packet is dropped and counted rx_cache_full. A live entry
/// is never evicted to make room (that would strip the headers of a packet still in the VNF).
/// Aging is what frees the room that dropped packets hold, so a VNF that drops packets needs
/// Cache:Size &gt;= (packets in flight) + (drop rate x (maxAge + sweep interval)).
/// </para>
/// </summary>
internal sealed class CacheAging
{
    /// <summary>
    /// Elements per batch lookup. Hash map batches return whole buckets and fail with ENOSPC only
    /// when not even the first bucket fits, so a few hundred or more is safe at any load.
    /// </summary>
    public const int DefaultBatchSize = 1024;

    private readonly BpfMap _cache;
    private readonly int _batchSize;
    private SfcCacheEntry[]? _values;
    private SfcFlowKey[]? _flowKeys, _flowOld;

    /// <param name="cache">sfc_hash_cache (<see cref="SfcFlowKey"/> keys).</param>
    public unsafe CacheAging(BpfMap cache, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 64);
        if (cache.ValueSize != sizeof(SfcCacheEntry))
            throw new ArgumentException($"{cache.Name}: values are {cache.ValueSize} bytes, not a header cache ({sizeof(SfcCacheEntry)})", nameof(cache));
        if (cache.KeySize != sizeof(SfcFlowKey))
            throw new ArgumentException($"{cache.Name}: keys are {cache.KeySize} bytes, not a header-hash cache (the metadata cache ages in the datapath)", nameof(cache));
        _cache = cache;
        _batchSize = batchSize;
    }

    /// <summary>Test seam: runs after each batch lookup, before that chunk's delete (to model tc_tx racing the sweep).</summary>
    internal Action? AfterLookup { get; set; }

    /// <summary>One pass: deletes every entry popped more than <paramref name="maxAge"/> ago.</summary>
    /// <remarks>Not thread-safe: one sweep at a time per instance (the buffers are reused).</remarks>
    public CacheSweepResult Sweep(TimeSpan maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);
        var now = MonotonicClock.NowNs();
        var age = (ulong)maxAge.Ticks * 100UL; // 1 tick = 100 ns
        // Uptime shorter than maxAge: nothing can be that old.
        return SweepOlderThan(now > age ? now - age : 0);
    }

    /// <summary>One pass: deletes every entry whose ingress_ns is strictly below <paramref name="cutoffNs"/>.</summary>
    public CacheSweepResult SweepOlderThan(ulong cutoffNs)
    {
        var started = Stopwatch.GetTimestamp();
        _values ??= new SfcCacheEntry[_batchSize];
        (int scanned, int aged) = Sweep(cutoffNs, _flowKeys ??= new SfcFlowKey[_batchSize], _flowOld ??= new SfcFlowKey[_batchSize]);
        return new CacheSweepResult(scanned, aged, Stopwatch.GetElapsedTime(started));
    }

    private (int Scanned, int AgedOut) Sweep<TKey>(ulong cutoffNs, TKey[] keys, TKey[] old)
        where TKey : unmanaged
    {
        var values = _values!;
        var cursor = new MapBatchCursor();
        int scanned = 0, aged = 0;
        while (!cursor.Finished)
        {
            var n = _cache.LookupBatch(cursor, keys.AsSpan(), values.AsSpan());
            scanned += n;
            var stale = 0;
            for (var i = 0; i < n; i++)
            {
                if (values[i].IngressNs < cutoffNs)
                    old[stale++] = keys[i];
            }
            AfterLookup?.Invoke();
            // Delete right away: the batch cursor is a bucket index past these keys' buckets, so
            // deleting them does not disturb the rest of the walk, and the race window stays short.
            aged += DeleteTolerant(old.AsSpan(0, stale));
        }
        return (scanned, aged);
    }

    /// <summary>
    /// Deletes the keys; a key tc_tx deleted meanwhile (ENOENT, which stops a batch delete at that
    /// key) is skipped and the batch resumes after it.
    /// </summary>
    /// <returns>Keys this call deleted.</returns>
    private int DeleteTolerant<TKey>(ReadOnlySpan<TKey> keys)
        where TKey : unmanaged
    {
        var deleted = 0;
        while (!keys.IsEmpty)
        {
            var done = _cache.DeleteBatch(keys);
            deleted += done;
            // done < Length only when keys[done] was missing: gone already, not ours to count.
            keys = keys[Math.Min(done + 1, keys.Length)..];
        }
        return deleted;
    }
}
