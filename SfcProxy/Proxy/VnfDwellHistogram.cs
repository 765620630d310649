using Prometheus;
using SfcProxy.Metrics;

namespace SfcProxy.Proxy;

/// <summary>
/// <c>sfcproxy_vnf_dwell_seconds</c>: the datapath's log2 latency histograms (pop at ingress to
/// restore at egress, per encapsulation and chain) as Prometheus histograms, so
/// <c>histogram_quantile</c> gives percentiles per chain.
/// </summary>
/// <remarks>
/// The datapath keeps counts per bucket [2^i, 2^(i+1)) ns and no sum. Each scrape observes the
/// packets a bucket gained since the last one at the bucket's midpoint, 1.5 * 2^i ns, which lies
/// strictly inside it: every packet lands in the Prometheus bucket whose <c>le</c> is its bucket's
/// upper bound, so the bucket counts are exact, and <c>_sum</c> is an estimate (each packet at its
/// bucket's midpoint, within 1.5x of the truth). Buckets below 1 us share the first <c>le</c>
/// (1.024 us): no VNF answers faster. A chain whose counts went down (evicted from the LRU map and
/// seen again) starts a new series, which Prometheus reads as a reset.
/// </remarks>
internal sealed class VnfDwellHistogram
{
    /// <summary>The datapath bucket whose upper bound is the first <c>le</c>: [512, 1024) ns.</summary>
    private const int FirstBoundedBucket = 9;

    private readonly Histogram _histogram;
    private readonly ScrapedSeries _series = new();
    private readonly Dictionary<string, ulong[]> _seen = new(StringComparer.Ordinal);

    public VnfDwellHistogram(IMetricFactory factory) =>
        _histogram = factory.CreateHistogram("sfcproxy_vnf_dwell_seconds",
            "Time packets spent in the VNF (xdp_rx pop to tc_tx restore), per encapsulation and chain (MPLS top label, NSH SPI); a sample, see sfcproxy_vnf_dwell_sample_every.",
            new HistogramConfiguration { LabelNames = ["encap", "chain"], Buckets = UpperBoundsSeconds() });

    /// <summary>The <c>le</c> bounds: the upper bounds of datapath buckets 9 .. 30 (the last, from 2^31 ns, is +Inf).</summary>
    public static double[] UpperBoundsSeconds() =>
        [.. Enumerable.Range(FirstBoundedBucket, LatencyHistogram.BucketCount - 1 - FirstBoundedBucket)
            .Select(i => LatencyHistogram.BucketUpperNs(i)!.Value / 1e9)];

    /// <summary>Where a packet of datapath bucket <paramref name="bucket"/> is observed: its midpoint, in seconds.</summary>
    public static double MidpointSeconds(int bucket) =>
        bucket == 0 ? 1e-9 : 1.5 * LatencyHistogram.BucketLowerNs(bucket) / 1e9;

    public void Set(LatencyHistogram histogram, string encap, string chain)
    {
        string[] labels = [encap, chain];
        string key = ScrapedSeries.Key(labels);
        var now = histogram.Buckets;
        if (!_seen.TryGetValue(key, out var before) || Enumerable.Range(0, now.Count).Any(i => now[i] < before[i]))
        {
            _histogram.RemoveLabelled(labels);
            before = new ulong[now.Count];
        }
        var child = _histogram.WithLabels(labels);
        for (int i = 0; i < now.Count; i++)
        {
            if (now[i] > before[i])
                child.Observe(MidpointSeconds(i), (long)(now[i] - before[i]));
        }
        _seen[key] = [.. now];
        _series.Saw(labels);
    }

    /// <summary>Ends a scrape: removes the chains it did not see (evicted from the map).</summary>
    public void EndScrape()
    {
        foreach (var labels in _series.End())
        {
            _histogram.RemoveLabelled(labels);
            _seen.Remove(ScrapedSeries.Key(labels));
        }
    }
}
