using System.Net;
using System.Net.Sockets;
using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>
/// The optional "SfcProxy:Dsr" section: the IP-in-IP DSR load balancer (XDP on <see cref="Interface"/>)
/// and/or the backend side (<see cref="Decap"/>). Independent of the SFC proxy fields; absent (no
/// services, no decap) means the module is off. Addresses stay text here: the validator names the
/// field of any that does not parse, <see cref="ToSettings"/> and <see cref="ToServiceConfigs"/>
/// convert a validated section.
/// </summary>
public sealed partial class DsrOptions
{
    /// <summary>Interface whose XDP hook runs dsr_lb (where client packets to the VIPs arrive). Required with <see cref="Services"/>.</summary>
    public string? Interface { get; set; }

    /// <summary>XDP attach mode of dsr_lb. Default "native".</summary>
    public XdpMode XdpMode { get; set; } = XdpMode.Native;

    /// <summary>Egress MTU of the encapsulated packets, 576..65535. Default 1500.</summary>
    public int Mtu { get; set; } = (int)DsrLimits.DefaultMtu;

    /// <summary>Largest MSS a client SYN may carry after clamping; 0 (default): MTU - 60; -1: no clamping.</summary>
    public int MssClamp { get; set; }

    /// <summary>Outer source address (IPv4). One of <see cref="Source"/> and <see cref="SourcePrefix"/> is required.</summary>
    public string? Source { get; set; }

    /// <summary>Outer source prefix (IPv4 CIDR): the source is derived per flow so receivers spread flows across queues.</summary>
    public string? SourcePrefix { get; set; }

    /// <summary>Static next hop MAC: no FIB lookup, XDP_TX to it. Absent: bpf_fib_lookup.</summary>
    public string? NextHopMac { get; set; }

    /// <summary>
    /// Milliseconds a bpf_fib_lookup answer (egress interface, MACs) is reused for a backend before
    /// it is looked up again (the next-hop cache; ignored with <see cref="NextHopMac"/>). 0: look up
    /// every packet. 0..60000, default 1000: a changed neighbour or route is followed within a second,
    /// well inside the seconds the kernel's own neighbour probing takes to notice a dead one.
    /// </summary>
    public int NextHopMaxAgeMs { get; set; } = (int)DsrLimits.NexthopDefaultMaxAgeMs;

    /// <summary>
    /// Seconds a removed backend's slot (id and address) stays alive without a packet to it, so its
    /// established flows keep reaching it; then the slot is purged (see <see cref="ActiveDsr"/>).
    /// 1..86400, default 120.
    /// </summary>
    public int RemoveIdleSeconds { get; set; } = 120;

    /// <summary>The load-balanced services.</summary>
    public IList<DsrServiceOptions> Services { get; set; } = [];

    /// <summary>Backend side: decapsulate IP-in-IP to these VIPs at tc ingress. Optional.</summary>
    public DsrDecapOptions? Decap { get; set; }

    /// <summary>True when the load balancer runs (the section names services).</summary>
    public bool Enabled => Services.Count > 0;

    /// <summary>True when the backend side runs.</summary>
    public bool DecapEnabled => Decap is not null;

    /// <summary>The datapath settings of a validated section.</summary>
    public DsrSettings ToSettings()
    {
        byte[]? mac = null;
        if (NextHopMac is { } text && MacAddressText.TryParse(text, out var parsed))
            mac = parsed;
        var flags = (mac is null ? 0 : DsrConfigFlag.StaticNexthop) | (MssClamp < 0 ? DsrConfigFlag.NoMssClamp : 0)
            | (NextHopMaxAgeMs == 0 ? DsrConfigFlag.NoNexthopCache : 0);
        return new DsrSettings(
            Source is null ? null : IPAddress.Parse(Source),
            SourcePrefix is null ? null : IPNetwork.Parse(SourcePrefix),
            (uint)Mtu, MssClamp < 0 ? 0 : (uint)MssClamp, flags, mac, (uint)Math.Max(NextHopMaxAgeMs, 0));
    }

    /// <summary>The services of a validated section, as the table builder takes them.</summary>
    public IReadOnlyList<DsrServiceConfig> ToServiceConfigs() =>
        Services.Select(s => new DsrServiceConfig(IPAddress.Parse(s.Vip!), (ushort)s.Port, ProtocolNumber(s.Protocol)!.Value,
            s.Backends.Select(b => new DsrBackendConfig(IPAddress.Parse(b.Address!), (uint)b.Weight)).ToList())).ToList();

    /// <summary>6 for "tcp", 17 for "udp", null otherwise.</summary>
    public static byte? ProtocolNumber(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "tcp" or "6" => 6,
        "udp" or "17" => 17,
        _ => null,
    };

    /// <summary>"tcp" / "udp" / the number.</summary>
    public static string ProtocolName(byte protocol) => protocol switch { 6 => "tcp", 17 => "udp", _ => protocol.ToString() };

    internal static bool TryParseV4(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text is null || !IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetwork)
            return false;
        address = parsed;
        return true;
    }
}

/// <summary>One load-balanced service: VIP, port, protocol, backends.</summary>
public sealed class DsrServiceOptions
{
    /// <summary>IPv4 virtual address.</summary>
    public string? Vip { get; set; }
    /// <summary>Destination port, 1..65535.</summary>
    public int Port { get; set; }
    /// <summary>"tcp" (default) or "udp".</summary>
    public string Protocol { get; set; } = "tcp";
    /// <summary>The backends (at least one).</summary>
    public IList<DsrBackendOptions> Backends { get; set; } = [];
}

/// <summary>A backend: IPv4 address and Maglev weight (0 = draining).</summary>
public sealed class DsrBackendOptions
{
    public string? Address { get; set; }
    /// <summary>0..65535, default 1; 0 drains (no new flows, established ones stay).</summary>
    public int Weight { get; set; } = 1;
}

/// <summary>The backend host's side: dsr_decap at tc ingress of <see cref="Interface"/> for <see cref="Vips"/>.</summary>
public sealed class DsrDecapOptions
{
    public string? Interface { get; set; }
    public IList<string> Vips { get; set; } = [];
}
