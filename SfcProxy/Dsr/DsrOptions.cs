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

    /// <summary>Outer IPv4 source address. One of <see cref="Source"/> and <see cref="SourcePrefix"/> is required when a backend is IPv4.</summary>
    public string? Source { get; set; }

    /// <summary>Outer IPv4 source prefix (CIDR): the source is derived per flow so receivers spread flows across queues.</summary>
    public string? SourcePrefix { get; set; }

    /// <summary>Outer IPv6 source address, required when a backend is IPv6 (IPv6 outer header, RFC 2473). Flows are
    /// spread by the outer flow label (RFC 6438), so one address does what <see cref="SourcePrefix"/> does for IPv4.</summary>
    public string? Source6 { get; set; }

    /// <summary>Outer IPv4 TTL and IPv6 hop limit, 1..255. Default 64.</summary>
    public int HopLimit { get; set; } = DsrLimits.DefaultHopLimit;

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
            (uint)Mtu, MssClamp < 0 ? 0 : (uint)MssClamp, flags, mac, (uint)Math.Max(NextHopMaxAgeMs, 0),
            Source6 is null ? null : IPAddress.Parse(Source6), (byte)Math.Clamp(HopLimit, 0, 255));
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

    /// <summary>An IPv4 or IPv6 address (not an IPv4-mapped IPv6 one, which names an IPv4 host in IPv6 clothes).</summary>
    internal static bool TryParseIp(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text is null || !IPAddress.TryParse(text, out var parsed) || !IsUnicastFamily(parsed))
            return false;
        address = parsed;
        return true;
    }

    /// <summary>An IPv4 or IPv6 address that is not IPv4-mapped.</summary>
    internal static bool IsUnicastFamily(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetwork || (a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv4MappedToIPv6);

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
    /// <summary>IPv4 or IPv6 virtual address (an IPv6 VIP needs IPv6 backends).</summary>
    public string? Vip { get; set; }
    /// <summary>Destination port, 1..65535.</summary>
    public int Port { get; set; }
    /// <summary>"tcp" (default) or "udp".</summary>
    public string Protocol { get; set; } = "tcp";
    /// <summary>The backends (at least one).</summary>
    public IList<DsrBackendOptions> Backends { get; set; } = [];
}

/// <summary>A backend: address and Maglev weight (0 = draining). Its family is the outer header's: an IPv4
/// backend gets IPv4-in-IPv4, an IPv6 backend IPv6-in-IPv6 or, behind an IPv4 VIP, IPv4-in-IPv6.</summary>
public sealed class DsrBackendOptions
{
    /// <summary>IPv4 or IPv6 address.</summary>
    public string? Address { get; set; }
    /// <summary>0..65535, default 1; 0 drains (no new flows, established ones stay).</summary>
    public int Weight { get; set; } = 1;
}

/// <summary>The backend host's side: dsr_decap at tc ingress of <see cref="Interface"/> for <see cref="Vips"/>.</summary>
public sealed class DsrDecapOptions
{
    public string? Interface { get; set; }
    /// <summary>IPv4 and IPv6 VIPs whose IP-in-IP packets (either outer family) are decapsulated.</summary>
    public IList<string> Vips { get; set; } = [];
}
