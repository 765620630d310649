using SfcProxy.Dsr;

namespace SfcProxy.Tests.Dsr;

/// <summary>Stand-in for the DSR datapath: records applied tables, answers fixed counters (packets = 10 × id).</summary>
internal sealed class FakeDsrDatapath : IDsrDatapath
{
    public List<DsrTables> Applied { get; } = [];

    /// <summary>Set to make the next Apply throw (the datapath refusing the tables).</summary>
    public Exception? FailNext { get; set; }

    public void Apply(DsrTables tables)
    {
        lock (Applied)
        {
            if (FailNext is { } e)
            {
                FailNext = null;
                throw e;
            }
            Applied.Add(tables);
        }
    }

    public IReadOnlyDictionary<DsrCounter, ulong> ReadCounters() =>
        new Dictionary<DsrCounter, ulong> { [DsrCounter.Tx] = 7, [DsrCounter.ConnHit] = 5 };

    public ulong ReadBackendPackets(uint backendId) => 10ul * backendId;

    public ulong ReadServicePackets(uint serviceId) => 100ul + serviceId;
}
