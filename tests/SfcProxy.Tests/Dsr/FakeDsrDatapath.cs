using SfcProxy.Dsr;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// Stand-in for the DSR datapath: records applied tables, answers fixed counters (packets = 10 × id
/// unless <see cref="BackendPackets"/> says otherwise, bytes = 1000 × packets) and a connection table the test fills
/// (<see cref="Connections"/>: entries per backend id).
/// </summary>
internal sealed class FakeDsrDatapath : IDsrDatapath
{
    public List<DsrTables> Applied { get; } = [];

    /// <summary>Set to make the next Apply throw (the datapath refusing the tables).</summary>
    public Exception? FailNext { get; set; }

    /// <summary>Connection-table entries per backend id.</summary>
    public Dictionary<uint, int> Connections { get; } = [];

    /// <summary>Packet counters per backend id; ids absent here count 10 × id.</summary>
    public Dictionary<uint, ulong> BackendPackets { get; } = [];

    /// <summary>Backend ids whose connection entries were deleted, in order.</summary>
    public List<uint> DeletedConnections { get; } = [];

    /// <summary>What <see cref="ReadInstalled"/> answers: the ids an earlier daemon left in the kernel.</summary>
    public DsrTables? Installed { get; set; }

    public DsrTables? ReadInstalled() => Installed;

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

    public DsrTraffic ReadBackendTraffic(uint backendId)
    {
        lock (Applied)
        {
            var packets = BackendPackets.TryGetValue(backendId, out var p) ? p : 10ul * backendId;
            return new DsrTraffic(packets, 1000 * packets);
        }
    }

    public DsrTraffic ReadServiceTraffic(uint serviceId) => new(100ul + serviceId, 1000 * (100ul + serviceId));

    public IReadOnlyDictionary<uint, int> CountConnections()
    {
        lock (Applied)
            return Connections.Where(kv => kv.Value > 0).ToDictionary();
    }

    public int DeleteConnections(uint backendId)
    {
        lock (Applied)
        {
            DeletedConnections.Add(backendId);
            Connections.Remove(backendId, out var n);
            return n;
        }
    }
}
