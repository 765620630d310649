using System.Net;

namespace SfcProxy.Dsr;

/// <summary>
/// What the IP-in-IP DSR load balancer's datapath needs: the services (VIP, port, protocol), the
/// backends, and per service a Maglev lookup table of <see cref="MaglevTableSize"/> backend ids.
/// The Maglev builder produces it; the datapath writes it, each service's table swapped in whole.
/// </summary>
public sealed record DsrTables(
    IReadOnlyList<DsrService> Services,
    IReadOnlyList<DsrBackend> Backends,
    IReadOnlyDictionary<uint, uint[]> MaglevTables)
{
    /// <summary>Maglev table size M: prime, much larger than the number of backends (Maglev paper: M >= 100 N).</summary>
    public const int MaglevTableSize = 65537;
}

/// <summary>A virtual service: traffic to <paramref name="Vip"/>:<paramref name="Port"/> over
/// <paramref name="Protocol"/> (6 TCP, 17 UDP) is load balanced. IPv4 only (IP-in-IP, protocol 4).</summary>
public sealed record DsrService(uint ServiceId, IPAddress Vip, ushort Port, byte Protocol);

/// <summary>A backend reachable at <paramref name="Address"/>; <paramref name="BackendId"/> is what
/// Maglev tables hold (0 is "no backend").</summary>
public sealed record DsrBackend(uint BackendId, IPAddress Address);
