using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>An inner packet, parameterised by its IP TTL / hop limit so the VNF's hop can be expressed.</summary>
internal sealed record Inner(string Name, Func<Packet, byte, Packet> On)
{
    public static readonly Inner V4Udp = new("ipv4-udp", (p, ttl) => p.IPv4(id: 0x1234, ttl: ttl).Udp(40000, 9).Payload(32));
    public static readonly Inner V4Tcp = new("ipv4-tcp", (p, ttl) => p.IPv4(id: 0x2345, ttl: ttl).Tcp(40001, 80, seq: 1000, ack: 77).Payload(100));
    public static readonly Inner V4Icmp = new("ipv4-icmp", (p, ttl) => p.IPv4(id: 0x3456, ttl: ttl).IcmpEcho(7, 1).Payload(56));
    public static readonly Inner V6Udp = new("ipv6-udp", (p, ttl) => p.IPv6(flowLabel: 0x12345, hopLimit: ttl).Udp(40000, 9).Payload(32));
    public static readonly Inner V6Tcp = new("ipv6-tcp", (p, ttl) => p.IPv6(hopLimit: ttl).Tcp(40001, 80, seq: 5000, ack: 9).Payload(100));
    public static readonly Inner V6Icmp = new("ipv6-icmp", (p, ttl) => p.IPv6(hopLimit: ttl).IcmpEcho(9, 3).Payload(56));

    public static readonly Inner[] All = [V4Udp, V4Tcp, V4Icmp, V6Udp, V6Tcp, V6Icmp];
}

/// <summary>Layer-2 framing in front of the SFC headers.</summary>
internal sealed record L2(string Name, Func<Packet, Packet> Tags)
{
    public static readonly L2 Plain = new("eth", p => p);
    public static readonly L2 Dot1Q = new("vlan", p => p.Vlan(100));
    public static readonly L2 QinQ = new("qinq", p => p.Vlan(200, tpid: 0x88A8).Vlan(100));

    public Packet Eth(byte[]? dst = null, byte[]? src = null) => Tags(Packet.Eth(dst, src));
}

/// <summary>Label stacks used by the fixtures: distinct labels, TTLs and traffic classes per entry.</summary>
internal static class Stacks
{
    public static LabelStackEntry[] Make(int count, byte topTtl = 64) =>
        [.. Enumerable.Range(0, count).Select(i => new LabelStackEntry(
            16000u + (uint)i * 7, (byte)(i % 8), i == count - 1, i == 0 ? topTtl : (byte)(200 - i)))];

    public static Packet Push(Packet p, IEnumerable<LabelStackEntry> stack)
    {
        foreach (var e in stack)
            p = p.Mpls(e.Label, e.Ttl, e.TrafficClass, e.BottomOfStack);
        return p;
    }

    /// <summary>The stack tc_tx must put back: without the consumed entries, new top TTL = popped top TTL - 1.</summary>
    public static LabelStackEntry[] AfterVnf(LabelStackEntry[] stack, int consumed)
    {
        var rest = stack.Skip(consumed).ToArray();
        if (rest.Length > 0)
            rest[0] = rest[0] with { Ttl = (byte)(stack[0].Ttl - 1) };
        return rest;
    }
}
