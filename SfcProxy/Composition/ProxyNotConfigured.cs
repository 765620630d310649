using SfcProxy.Configuration;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Composition;

/// <summary>
/// The SFC proxy's datapath in an instance whose file does not configure the proxy (a DSR-only or
/// policy-only instance). Nothing starts or reconfigures it; the control server still takes one, so
/// its proxy requests (stats, cache, metrics, latency, flush) answer that the proxy is not configured:
/// each read throws, and the server turns that into an error line.
/// </summary>
internal sealed class ProxyNotConfigured : IProxyDatapath
{
    private static InvalidOperationException NotConfigured() =>
        new($"the SFC proxy is not configured on this instance ({SfcProxyOptions.SectionName}:Interfaces is absent)");

    public void Start() => throw NotConfigured();
    public void Commit() => throw NotConfigured();
    public void RollBack() => throw NotConfigured();
    public void Stop() => throw NotConfigured();
    public void Reconfigure(SfcProxyOptions options) => throw NotConfigured();
    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => throw NotConfigured();
    public LatencyReport ReadLatency() => throw NotConfigured();
    public CacheSummary ReadCacheSummary() => throw NotConfigured();
    public CacheSweepResult? SweepCache(TimeSpan maxAge) => throw NotConfigured();
    public IReadOnlyList<CacheEntryView> DumpCache(int limit) => throw NotConfigured();
    public int FlushCache() => throw NotConfigured();
    public void Dispose() { }
}
