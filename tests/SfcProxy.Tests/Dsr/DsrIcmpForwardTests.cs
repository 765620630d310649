using System.Net;
using SfcProxy.Dsr;
using SfcProxy.Net;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// Path MTU discovery on the return path of DSR, in the real kernel through BPF_PROG_TEST_RUN: a backend
/// answers the client from the VIP, so a router on the way back that cannot forward a reply sends its ICMP
/// fragmentation needed (ICMPv6 packet too big) to the VIP, that is to the load balancer. Only the backend
/// can act on it; dsr_lb sends it to the backend of the quoted flow (the connection table's, else Maglev's,
/// recording no connection), encapsulated as that flow's packets are. Before this review such errors went to
/// the LB's stack (pass-not-vip), and the backend's connection stalled on its first full-size segment.
/// Static next hop, so the outer Ethernet header is known; frames come from the Packet builder.
/// </summary>
[TestClass]
public sealed class DsrIcmpForwardTests
{
    private const uint XdpPass = 2, XdpTx = 3;

    private static readonly byte[] LbMac = [0x02, 0, 0, 0, 0, 0x10];
    private static readonly byte[] RouterMac = [0x02, 0, 0, 0, 0, 0x20];
    private static readonly byte[] NexthopMac = [0x02, 0, 0, 0, 0, 0x30];
    private const string Vip4 = "198.18.60.10", Client4 = "198.18.50.5", Router4 = "198.18.99.1", LbSource4 = "198.18.61.1";
    private const string Backend4A = "198.18.62.1", Backend4B = "198.18.62.2";
    private const string Vip6 = "2001:2:60::10", Client6 = "2001:2:50::5", Router6 = "2001:2:99::1", LbSource6 = "2001:2:ff::1";
    private const string Backend6A = "2001:2:70::1", Backend6B = "2001:2:70::2";
    private const string Vip4Over6 = "198.18.60.20";
    private const uint Tcp4 = 0, Tcp6 = 1, Tcp4Over6 = 2;

    private static readonly DsrSettings Static = new(Source: IPAddress.Parse(LbSource4), Flags: DsrConfigFlag.StaticNexthop,
        NexthopMac: NexthopMac, Source6: IPAddress.Parse(LbSource6));

    /// <summary>TCP/80 on an IPv4 VIP (backends 1, 2), on an IPv6 VIP (3, 4) and on an IPv4 VIP over IPv6 (3);
    /// every Maglev slot of the first two on <paramref name="first"/> (true: 1 and 3, false: 2 and 4).</summary>
    private static DsrTables Tables(bool first = true) => new(
        [
            new DsrService(Tcp4, IPAddress.Parse(Vip4), 80, 6),
            new DsrService(Tcp6, IPAddress.Parse(Vip6), 80, 6),
            new DsrService(Tcp4Over6, IPAddress.Parse(Vip4Over6), 80, 6),
        ],
        [
            new DsrBackend(1, IPAddress.Parse(Backend4A)), new DsrBackend(2, IPAddress.Parse(Backend4B)),
            new DsrBackend(3, IPAddress.Parse(Backend6A)), new DsrBackend(4, IPAddress.Parse(Backend6B)),
        ],
        new Dictionary<uint, uint[]> { [Tcp4] = Filled(first ? 1u : 2u), [Tcp6] = Filled(first ? 3u : 4u), [Tcp4Over6] = Filled(3) });

    private static uint[] Filled(uint id) => Enumerable.Repeat(id, DsrTables.MaglevTableSize).ToArray();

    /// <summary>ICMP fragmentation needed from a router to <paramref name="vip"/>, quoting the backend's reply
    /// (vip:80 -> client:<paramref name="clientPort"/>) as RFC 792 quotes: its IP header and 8 bytes.</summary>
    private static byte[] FragNeeded(string vip, ushort clientPort, string? quotedSource = null, byte tos = 0)
    {
        var reply = Packet.Eth(LbMac, RouterMac).IPv4(quotedSource ?? vip, Client4, id: 77, ttl: 63).Tcp(80, clientPort, flags: 0x18).Payload(1400).Build();
        return Packet.Eth(LbMac, RouterMac).IPv4(Router4, vip, id: 9, ttl: 62, tos: tos).Icmp(3, 4, 0, 1400).Payload(reply.AsSpan(14, 28)).Build();
    }

    /// <summary>ICMPv6 packet too big from a router to the IPv6 VIP, quoting the backend's reply (RFC 4443 3.2).</summary>
    private static byte[] PacketTooBig(ushort clientPort, byte trafficClass = 0, byte type = 2)
    {
        var reply = Packet.Eth(LbMac, RouterMac).IPv6(Vip6, Client6, hopLimit: 63).Tcp(80, clientPort, flags: 0x18).Payload(1400).Build();
        return Packet.Eth(LbMac, RouterMac).IPv6(Router6, Vip6, hopLimit: 62, trafficClass: trafficClass)
            .Icmp(type, 0, 0, 1280).Payload(reply.AsSpan(14, 600)).Build();
    }

    private static uint Hash(string client, string vip, ushort sport) =>
        DsrFlowHash.Compute(IPAddress.Parse(client), IPAddress.Parse(vip), sport, 80, 6);

    [TestMethod]
    public void FragmentationNeededGoesToTheBackendOfTheQuotedFlow()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables(first: true));
        var syn = Packet.Eth(LbMac, RouterMac).IPv4(Client4, Vip4).Tcp(40000, 80, flags: 0x02).Build();
        Assert.AreEqual(XdpTx, lb.Objects.TestRun(syn).Verdict);
        lb.Objects.Apply(Tables(first: false)); // Maglev now says backend 2: the connection table must decide

        const byte Af21Ect0 = 18 << 2 | 2;
        var icmp = FragNeeded(Vip4, 40000, tos: Af21Ect0);
        var (verdict, output) = lb.Objects.TestRun(icmp);

        Assert.AreEqual(XdpTx, verdict);
        var expected = Packet.Eth(NexthopMac, LbMac).IPv4(LbSource4, Backend4A, id: 0, ttl: 64, protocol: 4, fragOff: 0x4000, tos: Af21Ect0)
            .Payload(icmp.AsSpan(14)).Build();
        CollectionAssert.AreEqual(expected, output, "the router's error, unchanged, inside the outer header to the flow's backend");
        var moved = lb.Moved(); // since loading: the SYN and the error
        Assert.AreEqual((2ul, 1ul, 1ul, 1ul), (moved[DsrCounter.Tx], moved[DsrCounter.IcmpForwarded], moved[DsrCounter.ConnHit], moved[DsrCounter.ConnNew]));

        // An error about a flow the connection table does not know goes where Maglev sends it, and records nothing.
        var connections = lb.Objects.CountConnections().Values.Sum();
        var (_, other) = lb.Objects.TestRun(FragNeeded(Vip4, 40001));
        Assert.AreEqual(Backend4B, new IPAddress(other.AsSpan(14 + 16, 4)).ToString());
        Assert.AreEqual(connections, lb.Objects.CountConnections().Values.Sum(), "no connection recorded for an ICMP error");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.ConnNew], "the SYN's only");
    }

    [TestMethod]
    public void PacketTooBigGoesToTheBackendOfTheQuotedFlow()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables(first: true));
        var syn = Packet.Eth(LbMac, RouterMac).IPv6(Client6, Vip6).Tcp(40000, 80, flags: 0x02).Build();
        Assert.AreEqual(XdpTx, lb.Objects.TestRun(syn).Verdict);
        lb.Objects.Apply(Tables(first: false));

        var ptb = PacketTooBig(40000, trafficClass: 0x21);
        var (verdict, output) = lb.Objects.TestRun(ptb);

        Assert.AreEqual(XdpTx, verdict);
        var expected = Packet.Eth(NexthopMac, LbMac).IPv6(LbSource6, Backend6A, flowLabel: DsrFlowHash.FlowLabel(Hash(Client6, Vip6, 40000)),
            hopLimit: 64, nextHeader: 41, trafficClass: 0x21).Payload(ptb.AsSpan(14)).Build();
        CollectionAssert.AreEqual(expected, output, "the error inside IPv6 to the flow's backend, with the flow's label");
        var moved = lb.Moved(); // since loading: the SYN and the error
        Assert.AreEqual((2ul, 1ul, 1ul), (moved[DsrCounter.Tx], moved[DsrCounter.IcmpForwarded], moved[DsrCounter.ConnHit]));
    }

    [TestMethod]
    public void FragmentationNeededAboutAnIPv4VipOverIPv6GoesInIPv6()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        var icmp = FragNeeded(Vip4Over6, 40000);

        var (verdict, output) = lb.Objects.TestRun(icmp);

        Assert.AreEqual(XdpTx, verdict);
        var expected = Packet.Eth(NexthopMac, LbMac).IPv6(LbSource6, Backend6A, flowLabel: DsrFlowHash.FlowLabel(Hash(Client4, Vip4Over6, 40000)),
            hopLimit: 64, nextHeader: 4).Payload(icmp.AsSpan(14)).Build();
        CollectionAssert.AreEqual(expected, output);
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.IcmpForwarded]);
    }

    public static IEnumerable<object[]> NotAServiceFlow
    {
        get
        {
            var fragNeeded = FragNeeded(Vip4, 40000);
            var ptb = PacketTooBig(40000);
            var fragmented = (byte[])fragNeeded.Clone();
            fragmented[14 + 6] |= 0x20; // MF: an ICMP fragment has no whole quote to read
            return
            [
                ["icmp-echo-to-the-vip", Packet.Eth(LbMac, RouterMac).IPv4(Router4, Vip4).IcmpEcho().Build()],
                ["host-unreachable", Packet.Eth(LbMac, RouterMac).IPv4(Router4, Vip4).Icmp(3, 1).Payload(fragNeeded.AsSpan(14 + 28, 28)).Build()],
                ["quote-of-another-port", Packet.Eth(LbMac, RouterMac).IPv4(Router4, Vip4).Icmp(3, 4, 0, 1400)
                    .Payload(Packet.Eth(LbMac, RouterMac).IPv4(Vip4, Client4).Tcp(81, 40000).Build().AsSpan(14, 28)).Build()],
                ["quote-not-from-the-vip", FragNeeded(Vip4, 40000, quotedSource: "198.18.60.11")],
                ["quote-without-ports", Packet.Eth(LbMac, RouterMac).IPv4(Router4, Vip4).Icmp(3, 4, 0, 1400).Payload(fragNeeded.AsSpan(14 + 28, 20)).Build()],
                ["icmp-fragment", fragmented],
                ["icmpv6-echo-to-the-vip", Packet.Eth(LbMac, RouterMac).IPv6(Router6, Vip6).IcmpEcho().Build()],
                ["icmpv6-destination-unreachable", PacketTooBig(40000, type: 1)],
                ["icmpv6-quote-without-ports", ptb[..(14 + 40 + 8 + 40 + 2)]],
            ];
        }
    }

    [TestMethod]
    [DynamicData(nameof(NotAServiceFlow))]
    public void OtherIcmpPassesAsBefore(string name, byte[] frame)
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        if (name == "icmpv6-quote-without-ports")
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 4), (ushort)(frame.Length - 14 - 40));

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpPass, verdict, name);
        CollectionAssert.AreEqual(frame, output, $"{name}: untouched");
        var moved = lb.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(DsrCounter.PassNotVip), name);
        Assert.IsFalse(moved.ContainsKey(DsrCounter.IcmpForwarded), name);
    }
}
