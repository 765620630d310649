using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Control;

/// <summary>
/// Stand-in for the kernel side in socket, service and CLI tests: known counters, counts calls.
/// Says nothing about the real datapath.
/// </summary>
internal sealed class FakeDatapath : IProxyDatapath
{
    public static readonly IReadOnlyDictionary<Counter, ulong> KnownCounters = new Dictionary<Counter, ulong>
    {
        [Counter.RxPopped] = 123,
        [Counter.TxRestored] = 120,
        [Counter.TxMissDrop] = 3,
        [Counter.LabelsPopped] = 369,
    };

    public int Starts;
    public int Stops;
    public Exception? StartFailure { get; init; }
    public Exception? ReadFailure { get; init; }

    public void Start()
    {
        if (StartFailure is not null)
            throw StartFailure;
        Interlocked.Increment(ref Starts);
    }

    public int Commits;
    public int RollBacks;

    public void Commit() => Interlocked.Increment(ref Commits);

    public void RollBack() => Interlocked.Increment(ref RollBacks);

    public void Stop() => Interlocked.Increment(ref Stops);

    /// <summary>What <see cref="ReadCounters"/> answers: <see cref="KnownCounters"/> until a test changes them.</summary>
    public Dictionary<Counter, ulong> Counters { get; } = new(KnownCounters);

    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => ReadFailure is null ? new Dictionary<Counter, ulong>(Counters) : throw ReadFailure;

    /// <summary>What <see cref="ReadLatency"/> answers: one MPLS chain (label 16000) with 4 packets (1 in bucket 10, 3 in bucket 12), sampled 1 in 64.</summary>
    public static readonly LatencyReport KnownLatency = LatencyReport.FromChains(
        [new ChainLatency(Encapsulation.Mpls, 16000, new LatencyHistogram([.. Enumerable.Range(0, LatencyHistogram.BucketCount).Select(i => i is 10 or 12 ? (ulong)(i - 9) : 0UL)]))],
        1024, sampleEvery: 64);

    public LatencyReport ReadLatency() => ReadFailure is null ? KnownLatency : throw ReadFailure;

    public CacheSummary ReadCacheSummary() => ReadFailure is null ? new CacheSummary("header-hash", 3, 65536) : throw ReadFailure;

    public int Sweeps;

    /// <summary>What <see cref="SweepCache"/> answers (null: "not attached").</summary>
    public CacheSweepResult? SweepResult { get; set; }

    public CacheSweepResult? SweepCache(TimeSpan maxAge)
    {
        Interlocked.Increment(ref Sweeps);
        return SweepResult;
    }

    /// <summary>What <see cref="DumpCache"/> lists until flushed: one MPLS and one NSH entry.</summary>
    public static readonly IReadOnlyList<CacheEntryView> KnownEntries =
    [
        new("7", "mpls", 12, 1, ["16001/0/63", "16002/0/64/S"], null),
        new("8", "nsh", 3, 2, [], new NshHeaderView(100, 254, 63, 1, 24, 1, "0fc60101000064fe")),
    ];

    public int Flushes;
    private int _entries = KnownEntries.Count;

    public IReadOnlyList<CacheEntryView> DumpCache(int limit) =>
        ReadFailure is null ? KnownEntries.Take(Math.Min(limit, Volatile.Read(ref _entries))).ToList() : throw ReadFailure;

    public int FlushCache()
    {
        Interlocked.Increment(ref Flushes);
        return Interlocked.Exchange(ref _entries, 0);
    }

    /// <summary>The options of the last <see cref="Reconfigure"/>, if any.</summary>
    public SfcProxy.Configuration.SfcProxyOptions? Reconfigured { get; private set; }

    public void Reconfigure(SfcProxy.Configuration.SfcProxyOptions options) => Reconfigured = options;

    public void Dispose() { }
}
