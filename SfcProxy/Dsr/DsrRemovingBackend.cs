using System.Net;

namespace SfcProxy.Dsr;

/// <summary>A service's key: VIP, port, protocol (6 TCP, 17 UDP).</summary>
public readonly record struct DsrServiceKey(IPAddress Vip, ushort Port, byte Protocol)
{
    public override string ToString() => ActiveDsr.Name(Vip, Port, Protocol);
}

/// <summary>
/// A backend removed from its last service whose slot (id and address) is still alive because
/// connection-table entries may still send flows to it.
/// </summary>
/// <param name="Services">The services it was removed from (while it was in some of them, its slot lived on anyway).</param>
/// <param name="BackendId">Its slot: the id the connection table names.</param>
/// <param name="Since">When it was removed.</param>
/// <param name="Flows">Connection-table entries naming it when last counted.</param>
/// <param name="LastActive">Last time a sweep saw its packet counter move (or <paramref name="Since"/>).</param>
public sealed record DsrRemovingBackend(IReadOnlyList<DsrServiceKey> Services, IPAddress Address, uint BackendId,
    DateTimeOffset Since, int Flows, DateTimeOffset LastActive);

/// <summary>What one sweep of the removing backends did.</summary>
/// <param name="Purged">Addresses whose slots were freed.</param>
/// <param name="ConnectionsDeleted">Connection-table entries deleted with them.</param>
public sealed record DsrSweepResult(IReadOnlyList<IPAddress> Purged, int ConnectionsDeleted);
