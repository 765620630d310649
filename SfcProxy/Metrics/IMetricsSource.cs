namespace SfcProxy.Metrics;

/// <summary>
/// One module's metric families. Each configured module registers one in DI; <see cref="InstanceMetrics"/>
/// adds them all to the instance's registry once, and their values are read from the datapath at
/// each scrape (the HTTP endpoint's and the <c>metrics</c> request's alike), never polled between.
/// </summary>
internal interface IMetricsSource
{
    /// <summary>Creates this module's families on <paramref name="metrics"/> and registers the scrape-time read that fills them.</summary>
    void AddTo(InstanceMetrics metrics);
}
