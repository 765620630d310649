namespace SfcProxy.Dsr;

/// <summary>
/// The kernel side of the DSR load balancer as the daemon sees it. The BPF implementation
/// (<see cref="BpfDsrDatapath"/>, dsr_lb at XDP of <c>SfcProxy:Dsr:Interface</c>) writes the tables
/// into its maps; tests use a fake. Calls may come from several control sessions at once.
/// </summary>
public interface IDsrDatapath
{
    /// <summary>Swaps the tables in (each service's Maglev table whole); the first call also loads,
    /// configures and attaches.</summary>
    void Apply(DsrTables tables);

    /// <summary>The services and backends (ids and keys, no Maglev tables) the kernel already holds: maps
    /// an earlier daemon of the instance left pinned (a restart with DetachOnStop false, a kill -9); null
    /// when there are none. The first table build keeps these ids, so the connection table's entries,
    /// which name backends by id, keep their flows where they are.</summary>
    DsrTables? ReadInstalled();

    /// <summary>Datapath counters summed over CPUs.</summary>
    IReadOnlyDictionary<DsrCounter, ulong> ReadCounters();

    /// <summary>Packets and bytes (of the client's IPv4 packets) sent to a backend id since the datapath
    /// started (or since the id was last freed).</summary>
    DsrTraffic ReadBackendTraffic(uint backendId);

    /// <summary>Packets and bytes (of the client's IPv4 packets) load balanced for a service id since the datapath started.</summary>
    DsrTraffic ReadServiceTraffic(uint serviceId);

    /// <summary>Connection-table entries per backend id (all services; ids without entries are absent).
    /// Entries are never removed when a flow ends, only evicted when the LRU table is full.</summary>
    IReadOnlyDictionary<uint, int> CountConnections();

    /// <summary>Deletes every connection-table entry that sends its flow to <paramref name="backendId"/>.</summary>
    /// <returns>Entries deleted.</returns>
    int DeleteConnections(uint backendId);
}
