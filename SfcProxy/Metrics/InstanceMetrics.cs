using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using Prometheus;
using SfcProxy.Configuration;

namespace SfcProxy.Metrics;

/// <summary>
/// The instance's metric families in one prometheus-net registry: the core's uptime and every
/// configured module's families (<see cref="IMetricsSource"/>). One exposition serves both the
/// <c>metrics</c> control request and the HTTP endpoint (<c>Metrics:Listen</c>), so there is one
/// formatter: the library's (Prometheus text format 0.0.4). Every sample carries the instance's
/// name as the <c>instance</c> label.
/// </summary>
internal sealed class InstanceMetrics
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly List<Action> _reads = [];
    private readonly Lock _scrape = new();

    public InstanceMetrics(IOptions<SfcProxyOptions> options, IEnumerable<IMetricsSource> sources)
    {
        // Static labels must be set before the first family is created.
        _registry.SetStaticLabels(new Dictionary<string, string> { ["instance"] = options.Value.Instance });
        Factory = Prometheus.Metrics.WithCustomRegistry(_registry);

        var uptime = Factory.CreateGauge("sfcproxy_uptime_seconds", "Seconds since the daemon process started.");
        var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        OnScrape(() => uptime.Set(Math.Round((DateTime.UtcNow - started).TotalSeconds, 3)));
        foreach (var source in sources)
            source.AddTo(this);

        // One read at a time: the HTTP endpoint and the control socket may scrape together, and the
        // families below remember what the previous scrape saw.
        _registry.AddBeforeCollectCallback(() =>
        {
            lock (_scrape)
            {
                foreach (var read in _reads)
                    read();
            }
        });
    }

    /// <summary>Creates families in this instance's registry.</summary>
    public IMetricFactory Factory { get; }

    /// <summary>The registry, for the HTTP endpoint.</summary>
    public CollectorRegistry Registry => _registry;

    /// <summary>Registers a read of the datapath that runs before each scrape (in registration order, one scrape at a time).</summary>
    public void OnScrape(Action read) => _reads.Add(read);

    /// <summary>Reads every family and writes the exposition (text format 0.0.4).</summary>
    public async Task<string> ExportAsync(CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream, cancellationToken);
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
