using Prometheus;

namespace SfcProxy.Metrics;

/// <summary>
/// A gauge family set at scrape time from what the datapath or the daemon holds now (cache
/// occupancy, a backend's weight); the series a scrape does not set are removed.
/// </summary>
internal sealed class KernelGaugeFamily
{
    private readonly Gauge _gauge;
    private readonly ScrapedSeries _series = new();

    public KernelGaugeFamily(IMetricFactory factory, string name, string help, params string[] labelNames) =>
        _gauge = factory.CreateGauge(name, help, new GaugeConfiguration { LabelNames = labelNames });

    /// <summary>Sets the series <paramref name="labels"/> (values in the order of the family's label names).</summary>
    public void Set(double value, params string[] labels)
    {
        (labels.Length == 0 ? (IGauge)_gauge : _gauge.WithLabels(labels)).Set(value);
        _series.Saw(labels);
    }

    /// <summary>Ends a scrape: removes the series it did not set.</summary>
    public void EndScrape()
    {
        foreach (var labels in _series.End())
            _gauge.RemoveLabelled(labels);
    }
}
