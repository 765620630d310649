namespace SfcProxy.Proxy;

/// <summary>One header cache entry as the control socket shows it.</summary>
/// <param name="Key">The cache key for people: the metadata key as a number, or the header-hash flow key.</param>
/// <param name="Encapsulation">"mpls" or "nsh".</param>
/// <param name="AgeMs">Milliseconds since xdp_rx popped the header.</param>
/// <param name="Refs">Packets in flight under this key.</param>
/// <param name="Labels">MPLS: the popped stack top first, each "label/tc/ttl" with "/S" on the bottom entry.</param>
/// <param name="Nsh">NSH: the popped header.</param>
/// <param name="Srv6">SRv6: the popped outer IPv6 header and extension headers.</param>
public sealed record CacheEntryView(
    string Key, string Encapsulation, long AgeMs, uint Refs, IReadOnlyList<string> Labels, NshHeaderView? Nsh,
    Srv6HeaderView? Srv6 = null);

/// <summary>An SRv6 header set (outer IPv6 header, SRH and other extension headers) as cached, i.e. as it will
/// leave: Segments Left and the destination already those of the next segment.</summary>
/// <param name="Sid">Index of the proxy SID (Srv6:Sids) the packet was addressed to.</param>
/// <param name="Destination">The outer destination it leaves with (the next segment).</param>
/// <param name="Length">Bytes of IPv6 header and extension headers.</param>
/// <param name="NextHeader">The inner packet: 4 IPv4, 41 IPv6, 143 Ethernet.</param>
/// <param name="Hex">The whole header set as lowercase hex.</param>
public sealed record Srv6HeaderView(int Sid, string Destination, int Length, byte NextHeader, string Hex);

/// <summary>An NSH base and service path header (RFC 8300) as cached.</summary>
/// <param name="Length">Header length in bytes (4 x the Length field).</param>
/// <param name="NextProtocol">1 IPv4, 2 IPv6, 3 Ethernet.</param>
/// <param name="Hex">The whole header, context headers included, as lowercase hex.</param>
public sealed record NshHeaderView(uint Spi, byte Si, byte Ttl, byte MdType, int Length, byte NextProtocol, string Hex);
