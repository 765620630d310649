using Prometheus;
using SfcProxy.Configuration;
using SfcProxy.Metrics;

namespace SfcProxy.Proxy;

/// <summary>
/// The SFC proxy's metric families, read from its maps at each scrape: every datapath counter as
/// <c>sfcproxy_&lt;counter&gt;_total</c> (the names <c>sfcproxy stats</c> shows), the header cache's
/// occupancy against its capacity, and the time packets spend in the VNF per chain as a histogram.
/// </summary>
internal sealed class ProxyMetrics(IProxyDatapath datapath) : IMetricsSource
{
    public void AddTo(InstanceMetrics metrics)
    {
        var f = metrics.Factory;
        var counters = CounterNames.All.ToDictionary(c => c, c =>
        {
            string name = CounterNames.Of(c);
            return new KernelCounterFamily(f, $"sfcproxy_{name}_total",
                $"Datapath counter {name} (SFC_CNT_{name.ToUpperInvariant()}), summed over CPUs.");
        });
        var entries = new KernelGaugeFamily(f, "sfcproxy_cache_entries", "Header sets in the header cache now.");
        var capacity = new KernelGaugeFamily(f, "sfcproxy_cache_capacity", "Header sets the header cache can hold (map max_entries).");
        var dwell = new VnfDwellHistogram(f);
        var sampleEvery = new KernelGaugeFamily(f, "sfcproxy_vnf_dwell_sample_every",
            "The dwell-time histograms hold one packet in this many per CPU (LatencySampleEvery; 1: every packet).");

        metrics.OnScrape(() =>
        {
            var read = datapath.ReadCounters();
            foreach (var (counter, family) in counters)
            {
                family.Set(read.TryGetValue(counter, out ulong v) ? v : 0);
                family.EndScrape();
            }
            var cache = datapath.ReadCacheSummary();
            entries.Set(cache.Entries);
            capacity.Set(cache.Capacity);
            var latency = datapath.ReadLatency();
            sampleEvery.Set(latency.SampleEvery);
            foreach (var chain in latency.Chains)
                dwell.Set(chain.Histogram, OptionValues.Encapsulations.NameOf(chain.Encapsulation),
                    chain.Chain.ToString(System.Globalization.CultureInfo.InvariantCulture));
            dwell.EndScrape();
        });
    }
}
