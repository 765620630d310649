using SfcProxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// Placeholder until the libbpf datapath is plugged in (Program.DatapathFactory). Fails loudly so a
/// build without the datapath can never look like a working proxy.
/// </summary>
internal sealed class NotYetWiredDatapath : IProxyDatapath
{
    public void Start() => throw new NotImplementedException("datapath not wired");

    public void Stop() { }

    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => throw new NotImplementedException("datapath not wired");

    public CacheSummary ReadCacheSummary() => throw new NotImplementedException("datapath not wired");

    public void Dispose() { }
}
