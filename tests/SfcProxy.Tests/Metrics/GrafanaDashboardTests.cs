using System.Text.Json;

namespace SfcProxy.Tests.Metrics;

/// <summary>
/// The dashboard's shape: every panel queries SfcProxy's metrics, and the panels cover what an
/// operator asked for. That each name exists in a real scrape is <see cref="MetricsScrapeEndToEndTests"/>'s.
/// </summary>
[TestClass]
public sealed class GrafanaDashboardTests
{
    [TestMethod]
    public void EveryPanelQueriesSfcProxyMetricsAndTheAreasAreCovered()
    {
        using var dashboard = GrafanaDashboard.Load();
        var root = dashboard.RootElement;

        var panels = root.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.IsGreaterThanOrEqualTo(10, panels.Count);
        foreach (var panel in panels)
        {
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.IsNotEmpty(targets, panel.GetProperty("title").GetString());
            foreach (var target in targets)
                StringAssert.Contains(target.GetProperty("expr").GetString(), "sfcproxy_", panel.GetProperty("title").GetString());
        }
        var names = GrafanaDashboard.MetricNames(root);
        // Packets per outcome, cache against capacity, dwell-time percentiles per chain, DSR per backend, policy verdicts.
        CollectionAssert.IsSubsetOf(new[]
        {
            "sfcproxy_rx_popped_total", "sfcproxy_tx_restored_total", "sfcproxy_cache_entries", "sfcproxy_cache_capacity",
            "sfcproxy_vnf_dwell_seconds_bucket", "sfcproxy_dsr_backend_packets_total", "sfcproxy_policy_packets_total",
        }, names.ToList());
        Assert.IsTrue(GrafanaDashboard.Queries(root).Any(q => q.Contains("histogram_quantile(0.99", StringComparison.Ordinal)
            && q.Contains("chain", StringComparison.Ordinal)), "p99 per chain");
        Assert.AreEqual("datasource", root.GetProperty("templating").GetProperty("list")[0].GetProperty("type").GetString());
    }
}
