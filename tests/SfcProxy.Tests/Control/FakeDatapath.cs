using SfcProxy.Datapath;
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

    public void Stop() => Interlocked.Increment(ref Stops);

    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => ReadFailure is null ? KnownCounters : throw ReadFailure;

    /// <summary>What <see cref="ReadLatency"/> answers: one MPLS chain (label 16000) with 3 packets.</summary>
    public static readonly LatencyReport KnownLatency = LatencyReport.FromChains(
        [new ChainLatency(Encapsulation.Mpls, 16000, new LatencyHistogram([.. Enumerable.Range(0, LatencyHistogram.BucketCount).Select(i => i is 10 or 12 ? (ulong)(i - 9) : 0UL)]))],
        1024);

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

    public void Dispose() { }
}
