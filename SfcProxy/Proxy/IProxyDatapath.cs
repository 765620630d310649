using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// The kernel side of one proxy instance (XDP pop, tc egress push, the shared header cache), as seen
/// by the host. Implemented over libbpf in SfcProxy/Bpf; faked in tests.
/// </summary>
public interface IProxyDatapath : IDisposable
{
    /// <summary>
    /// Loads, configures and attaches, taking over what an earlier daemon left pinned. On failure
    /// throws, having put back exactly what it found (links and the programs they ran, pins,
    /// settings, GRO and its note). Until <see cref="Commit"/> the start can still be undone.
    /// </summary>
    void Start();

    /// <summary>The whole host started: the start is kept (what an earlier daemon left and this one
    /// did not take over is removed now).</summary>
    void Commit();

    /// <summary>The host did not start after all: puts back what <see cref="Start"/> found.</summary>
    void RollBack();

    /// <summary>Detaches (DetachOnStop) or leaves the datapath attached; rolls back a start that was
    /// not committed. A detach runs every step and then throws if any failed.</summary>
    void Stop();

    /// <summary>
    /// Applies the settings that can change while attached (miss policy, static stack, consumed
    /// segments, encapsulations, NSH next hop) to the running datapath: SIGHUP's reload.
    /// </summary>
    void Reconfigure(Configuration.SfcProxyOptions options);

    /// <summary>Counter values summed over all CPUs.</summary>
    IReadOnlyDictionary<Counter, ulong> ReadCounters();

    /// <summary>
    /// VNF latency histograms (pop to restore) per chain and per encapsulation, summed over all
    /// CPUs; see <see cref="LatencyReport"/>.
    /// </summary>
    LatencyReport ReadLatency();

    /// <summary>Occupancy of the header cache.</summary>
    CacheSummary ReadCacheSummary();

    /// <summary>
    /// One aging pass over the header cache: deletes the entries popped more than
    /// <paramref name="maxAge"/> ago (packets the VNF dropped; see <see cref="CacheAging"/>).
    /// </summary>
    /// <returns>null when the datapath is not attached or in metadata key mode (nothing for the host to sweep).</returns>
    CacheSweepResult? SweepCache(TimeSpan maxAge);

    /// <summary>Up to <paramref name="limit"/> cached header sets, in map order.</summary>
    IReadOnlyList<CacheEntryView> DumpCache(int limit);

    /// <summary>Deletes every cached header set; packets in flight under them then miss at egress.</summary>
    /// <returns>Entries deleted.</returns>
    int FlushCache();
}

/// <summary>Header cache occupancy.</summary>
/// <param name="KeyMode">Config spelling of the key mode ("metadata", "header-hash").</param>
/// <param name="Entries">Header sets cached now.</param>
/// <param name="Capacity">Map max_entries.</param>
public sealed record CacheSummary(string KeyMode, int Entries, uint Capacity);
