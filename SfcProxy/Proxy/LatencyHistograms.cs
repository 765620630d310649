using System.Globalization;
using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// A log2 histogram of VNF latencies (xdp_rx's pop to tc_tx's cache hit): bucket i counts the
/// packets that spent [2^i, 2^(i+1)) ns in the VNF (bucket 0 also 0 ns); the last bucket,
/// <see cref="SfcLimits.LatencyBuckets"/> - 1, counts everything from 2^31 ns (~2.1 s) up.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Number of buckets (SFC_LAT_BUCKETS).</summary>
    public const int BucketCount = SfcLimits.LatencyBuckets;

    private readonly ulong[] _buckets;

    /// <param name="buckets">Exactly <see cref="BucketCount"/> counts; copied.</param>
    public LatencyHistogram(IReadOnlyList<ulong> buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        if (buckets.Count != BucketCount)
            throw new ArgumentException($"a latency histogram has {BucketCount} buckets, got {buckets.Count}", nameof(buckets));
        _buckets = [.. buckets];
        foreach (var b in _buckets)
            Count += b;
    }

    /// <summary>An empty histogram.</summary>
    public static LatencyHistogram Empty { get; } = new(new ulong[BucketCount]);

    /// <summary>Packets per bucket.</summary>
    public IReadOnlyList<ulong> Buckets => _buckets;

    /// <summary>Packets in all buckets.</summary>
    public ulong Count { get; }

    /// <summary>Approximate median: the upper bound of the bucket holding it; null when empty.</summary>
    public ulong? P50Ns => PercentileNs(0.50);

    /// <summary>Approximate 90th percentile (bucket upper bound); null when empty.</summary>
    public ulong? P90Ns => PercentileNs(0.90);

    /// <summary>Approximate 99th percentile (bucket upper bound); null when empty.</summary>
    public ulong? P99Ns => PercentileNs(0.99);

    /// <summary>
    /// The bucket holding the q-quantile: the first bucket where the running count reaches
    /// ceil(q * Count) (at least 1). -1 when the histogram is empty.
    /// </summary>
    public int PercentileBucket(double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1.0);
        if (Count == 0)
            return -1;
        var rank = Math.Max(1UL, (ulong)Math.Ceiling(q * Count));
        ulong seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
                return i;
        }
        return BucketCount - 1; // not reached: seen ends at Count >= rank
    }

    /// <summary>
    /// Approximate q-quantile in ns: the exclusive upper bound of its bucket (an overestimate by
    /// less than 2x). The last bucket has no upper bound: its lower bound, 2^31 ns, is returned.
    /// null when the histogram is empty.
    /// </summary>
    public ulong? PercentileNs(double q) => PercentileBucket(q) is var b and >= 0 ? BucketUpperNs(b) ?? BucketLowerNs(b) : null;

    /// <summary>Sum of histograms (the chains of one encapsulation).</summary>
    public static LatencyHistogram Sum(IEnumerable<LatencyHistogram> histograms)
    {
        var sum = new ulong[BucketCount];
        foreach (var h in histograms)
            for (var i = 0; i < BucketCount; i++)
                sum[i] += h._buckets[i];
        return new LatencyHistogram(sum);
    }

    /// <summary>Smallest latency bucket i counts: 2^i ns (0 for bucket 0).</summary>
    public static ulong BucketLowerNs(int bucket)
    {
        CheckBucket(bucket);
        return bucket == 0 ? 0 : 1UL << bucket;
    }

    /// <summary>Exclusive upper bound of bucket i, 2^(i+1) ns; null for the last, open bucket.</summary>
    public static ulong? BucketUpperNs(int bucket)
    {
        CheckBucket(bucket);
        return bucket == BucketCount - 1 ? null : 1UL << (bucket + 1);
    }

    /// <summary>
    /// A bucket's range for people: "1-2 us" (bucket 10, [1024, 2048) ns), "524 us-1 ms"
    /// (bucket 19), "0-2 ns" (bucket 0), ">= 2.1 s" (the last bucket). Bounds are rounded
    /// (<see cref="FormatNs"/>), so they are approximate.
    /// </summary>
    public static string FormatBucket(int bucket)
    {
        var lower = BucketLowerNs(bucket);
        if (BucketUpperNs(bucket) is not { } upper)
            return ">= " + FormatNs(lower);
        var (lo, loUnit) = Scale(lower);
        var (hi, hiUnit) = Scale(upper);
        // One unit for both bounds when they share it: "1-2 us", not "1 us-2 us".
        return loUnit == hiUnit || lower == 0
            ? $"{Number(lower == 0 ? 0 : lo)}-{Number(hi)} {hiUnit}"
            : $"{Number(lo)} {loUnit}-{Number(hi)} {hiUnit}";
    }

    /// <summary>
    /// A duration in the largest unit (ns, us, ms, s) that keeps it at least 1, with one decimal
    /// below 10 and none above: 1024 -> "1 us", 8192 -> "8.2 us", 524288 -> "524 us".
    /// </summary>
    public static string FormatNs(ulong ns)
    {
        var (v, unit) = Scale(ns);
        return $"{Number(v)} {unit}";
    }

    private static (double Value, string Unit) Scale(ulong ns) => ns switch
    {
        < 1_000 => (ns, "ns"),
        < 1_000_000 => (ns / 1e3, "us"),
        < 1_000_000_000 => (ns / 1e6, "ms"),
        _ => (ns / 1e9, "s"),
    };

    private static string Number(double v) => v.ToString(v < 10 ? "0.#" : "0", CultureInfo.InvariantCulture);

    private static void CheckBucket(int bucket)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bucket);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bucket, BucketCount);
    }
}

/// <summary>VNF latency of one service chain.</summary>
/// <param name="Encapsulation">MPLS or NSH.</param>
/// <param name="Chain">MPLS: the popped top label's value (20 bits); NSH: the SPI (24 bits).</param>
public sealed record ChainLatency(Encapsulation Encapsulation, uint Chain, LatencyHistogram Histogram);

/// <summary>VNF latency of all chains of one encapsulation: the sum of their histograms.</summary>
/// <param name="Chains">Chains summed (those present in the map when it was read).</param>
public sealed record EncapsulationLatency(Encapsulation Encapsulation, int Chains, LatencyHistogram Histogram);

/// <summary>
/// The VNF latency histograms of one instance: what the control socket request "histograms" and
/// `sfcproxy latency` show.
/// </summary>
/// <param name="Chains">Per chain, ordered by encapsulation, then chain id.</param>
/// <param name="Encapsulations">Per encapsulation with at least one chain, ordered by encapsulation.</param>
/// <param name="ChainCapacity">Most chains the datapath keeps (max_entries of sfc_latency); with
/// more chains in use, the least recently seen ones are evicted and their counts lost.</param>
/// <param name="SampleEvery">The histograms hold one packet in this many per CPU
/// (sfc_config.latency_sample_every; 1: every packet), so counts are a sample, not a total.</param>
public sealed record LatencyReport(IReadOnlyList<ChainLatency> Chains, IReadOnlyList<EncapsulationLatency> Encapsulations,
    uint ChainCapacity, uint SampleEvery = 1)
{
    /// <summary>A report with no chains.</summary>
    public static LatencyReport Empty(uint chainCapacity) => new([], [], chainCapacity);

    /// <summary>Builds the per-encapsulation totals from the chains.</summary>
    public static LatencyReport FromChains(IEnumerable<ChainLatency> chains, uint chainCapacity, uint sampleEvery = 1)
    {
        var ordered = chains.OrderBy(c => c.Encapsulation).ThenBy(c => c.Chain).ToList();
        var totals = ordered.GroupBy(c => c.Encapsulation)
            .Select(g => new EncapsulationLatency(g.Key, g.Count(), LatencyHistogram.Sum(g.Select(c => c.Histogram))))
            .ToList();
        return new LatencyReport(ordered, totals, chainCapacity, sampleEvery);
    }
}

/// <summary>
/// Reads the datapath's sfc_latency map (LRU per-CPU hash, <see cref="SfcChainKey"/> ->
/// <see cref="SfcLatencyHist"/> per CPU) into a <see cref="LatencyReport"/>.
/// </summary>
/// <remarks>
/// tc_tx adds to the map while it is read: each chain's CPUs are summed from one lookup, so a
/// chain is consistent to within the packets counted during that syscall. A chain evicted
/// between the key walk and its lookup is skipped; a key the walk sees twice (the kernel restarts
/// a hash walk when the key it continues from was deleted) is read once.
/// </remarks>
internal static class LatencyHistograms
{
    /// <param name="sampleEvery">The sampling the datapath runs with (sfc_config), carried into the report.</param>
    public static unsafe LatencyReport Read(BpfMap map, uint sampleEvery = 1)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.KeySize != sizeof(SfcChainKey) || map.ValueSize != sizeof(SfcLatencyHist))
            throw new ArgumentException($"{map.Name}: {map.KeySize}-byte keys and {map.ValueSize}-byte values are not latency histograms", nameof(map));

        var chains = new Dictionary<(Encapsulation, uint), ChainLatency>();
        foreach (var key in map.Keys<SfcChainKey>())
        {
            var id = ((Encapsulation)key.Encap, key.Chain);
            if (chains.ContainsKey(id))
                continue;
            SfcLatencyHist[] perCpu;
            try
            {
                perCpu = map.LookupPerCpu<SfcChainKey, SfcLatencyHist>(key);
            }
            catch (KeyNotFoundException)
            {
                continue; // evicted (LRU) since the walk saw it
            }
            var sum = new ulong[SfcLimits.LatencyBuckets];
            foreach (var cpu in perCpu)
                for (var i = 0; i < sum.Length; i++)
                    sum[i] += cpu.Buckets[i];
            chains[id] = new ChainLatency(id.Item1, id.Item2, new LatencyHistogram(sum));
        }
        return LatencyReport.FromChains(chains.Values, map.MaxEntries, Math.Max(sampleEvery, 1));
    }
}
