using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

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
/// behind. One sweep runs the <c>hash_age</c> program (bpf/sfc/hash_age/, never attached) once with
/// BPF_PROG_TEST_RUN: it walks the whole cache (bpf_for_each_map_elem) and takes out every entry
/// whose <c>ingress_ns</c> (bpf_ktime_get_ns() at pop, i.e. CLOCK_MONOTONIC) is older than now -
/// maxAge, with the datapath's own protocol: the entry's reference count goes to 0 by
/// compare-and-swap, then the key is deleted. "Now" is read once, before the walk, from the same
/// clock (<see cref="MonotonicClock"/>), so entries created during the sweep are never eligible.
/// </para>
/// <para>
/// <b>Why a program.</b> A user-space walk deletes by key what it read a moment before: a copy that
/// joined the entry meanwhile (renewing its pop time), or a new entry inserted under the same key
/// after tc_tx released the old one, would be deleted with it, and an identical packet with other
/// headers could then take that key (issue 11's review). Only a program can delete on a condition
/// atomically with xdp_rx's joins and tc_tx's releases.
/// </para>
/// <para>
/// <b>Race rule.</b> An entry whose packet is still inside the VNF after maxAge is considered lost
/// and is deleted; if the packet comes out later, tc_tx finds no entry and applies the miss policy
/// (counted tx_miss_*). maxAge must therefore exceed the VNF's worst holding time (queueing,
/// shaping, user-space scheduling).
/// </para>
/// <para>
/// <b>Header-hash mode only.</b> The metadata cache (sfc_meta_cache, an array of slots claimed and
/// released with compare-and-swap) ages in the datapath: xdp_rx takes over a slot whose entry is
/// older than Cache:MaxAge when its ring comes round to it (counted meta_aged_out), so
/// <see cref="CacheAgingService"/> does not sweep in metadata mode.
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
    private readonly BpfMap _cache;
    private readonly BpfProgram _age;

    /// <param name="objects">The loaded proxy: its sfc_hash_cache and hash_age program.</param>
    public unsafe CacheAging(ProxyObjects objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var cache = objects.HashCache;
        if (cache.ValueSize != sizeof(SfcCacheEntry))
            throw new ArgumentException($"{cache.Name}: values are {cache.ValueSize} bytes, not a header cache ({sizeof(SfcCacheEntry)})", nameof(objects));
        if (cache.KeySize != sizeof(ulong))
            throw new ArgumentException($"{cache.Name}: keys are {cache.KeySize} bytes, not a header-hash cache (the metadata cache ages in the datapath)", nameof(objects));
        if (cache.MaxEntries <= 1)
            throw new ArgumentException($"{cache.Name}: a cache of {cache.MaxEntries} entry is the unused one of metadata mode, which ages in the datapath", nameof(objects));
        _cache = cache;
        _age = objects.Age;
    }

    /// <summary>One pass: deletes every entry popped more than <paramref name="maxAge"/> ago.</summary>
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
        // struct sfc_age_args: cutoff in, scanned and aged out; the XDP test run wants 14 bytes and more.
        Span<byte> args = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(args, cutoffNs);
        var ctx = XdpContext.ForPacket(args.Length);
        var r = _age.TestRun(args, MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref ctx, 1)), Marshal.SizeOf<XdpContext>());
        if (r.ReturnValue != ProxyTestRuns.XdpPass || r.Data.Length < 16)
            throw new BpfException($"{_cache.Name}: the aging pass (hash_age) answered {r.ReturnValue} with {r.Data.Length} bytes", 0);
        var scanned = (int)BinaryPrimitives.ReadUInt32LittleEndian(r.Data.AsSpan(8));
        var aged = (int)BinaryPrimitives.ReadUInt32LittleEndian(r.Data.AsSpan(12));
        return new CacheSweepResult(scanned, aged, Stopwatch.GetElapsedTime(started));
    }
}
