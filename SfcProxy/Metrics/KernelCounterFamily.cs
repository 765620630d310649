using Prometheus;

namespace SfcProxy.Metrics;

/// <summary>
/// A counter family that mirrors counters the datapath keeps (per-CPU sums read at scrape time):
/// each scrape sets every series it sees to the kernel's value, and removes the series it no
/// longer sees. A value below the last one means the kernel counter started again (a reused
/// backend slot, a re-created map): the series is restarted from it, which Prometheus reads as a
/// counter reset, as it should.
/// </summary>
internal sealed class KernelCounterFamily
{
    private readonly Counter _counter;
    private readonly ScrapedSeries _series = new();

    public KernelCounterFamily(IMetricFactory factory, string name, string help, params string[] labelNames) =>
        _counter = factory.CreateCounter(name, help, new CounterConfiguration { LabelNames = labelNames });

    /// <summary>Sets the series <paramref name="labels"/> (values in the order of the family's label names).</summary>
    public void Set(ulong value, params string[] labels)
    {
        ICounter child = labels.Length == 0 ? _counter : _counter.WithLabels(labels);
        if (value < child.Value)
        {
            _counter.RemoveLabelled(labels);
            child = labels.Length == 0 ? _counter : _counter.WithLabels(labels);
        }
        child.IncTo(value);
        _series.Saw(labels);
    }

    /// <summary>Ends a scrape: removes the series it did not set.</summary>
    public void EndScrape()
    {
        foreach (var labels in _series.End())
            _counter.RemoveLabelled(labels);
    }
}
