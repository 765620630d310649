using System.Buffers.Binary;
using System.Net;
using SfcProxy.Dsr;
using SfcProxy.Net;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// dsr_lb's IPv6 paths in the real kernel through BPF_PROG_TEST_RUN, each against a frame the Packet
/// builder makes on its own: IPv6-in-IPv6 (next header 41), IPv4-in-IPv6 (an IPv4 VIP's IPv6 backend,
/// next header 4), ICMPv6 packet too big and ICMP fragmentation needed for 40 bytes of outer header,
/// the IPv6 MSS clamp, extension headers, fragments, malformed input, the IPv6 connection table. Static
/// next hop, so the outer Ethernet header is known.
/// </summary>
[TestClass]
public sealed class DsrIPv6DatapathTests
{
    private const uint XdpDrop = 1, XdpPass = 2, XdpTx = 3;

    private static readonly byte[] LbMac = [0x02, 0, 0, 0, 0, 0x10];
    private static readonly byte[] ClientMac = [0x02, 0, 0, 0, 0, 0x20];
    private static readonly byte[] NexthopMac = [0x02, 0, 0, 0, 0, 0x30];
    private const string Vip6 = "2001:2:60::10", Client6 = "2001:2:50::5", LbSource6 = "2001:2:ff::1";
    private const string Backend6A = "2001:2:70::1", Backend6B = "2001:2:70::2", Backend6C = "2001:2:70::3";
    private const string Vip4 = "198.18.60.10", Client4 = "198.18.50.5", LbSource4 = "198.18.61.1", Backend4 = "198.18.62.1";
    private const uint Tcp6 = 0, Udp6 = 1, Mixed4 = 2;

    private static readonly DsrSettings Static = new(Source: IPAddress.Parse(LbSource4), Flags: DsrConfigFlag.StaticNexthop,
        NexthopMac: NexthopMac, Source6: IPAddress.Parse(LbSource6));

    /// <summary>TCP/80 and UDP/53 on the IPv6 VIP; TCP/80 on the IPv4 VIP with an IPv6 backend (id 3) in every slot.</summary>
    private static DsrTables Tables(uint tcp6Backend = 1) => new(
        [
            new DsrService(Tcp6, IPAddress.Parse(Vip6), 80, 6),
            new DsrService(Udp6, IPAddress.Parse(Vip6), 53, 17),
            new DsrService(Mixed4, IPAddress.Parse(Vip4), 80, 6),
        ],
        [
            new DsrBackend(1, IPAddress.Parse(Backend6A)), new DsrBackend(2, IPAddress.Parse(Backend6B)),
            new DsrBackend(3, IPAddress.Parse(Backend6C)), new DsrBackend(4, IPAddress.Parse(Backend4)),
        ],
        new Dictionary<uint, uint[]> { [Tcp6] = Filled(tcp6Backend), [Udp6] = Filled(2), [Mixed4] = Filled(3) });

    private static uint[] Filled(uint id) => Enumerable.Repeat(id, DsrTables.MaglevTableSize).ToArray();

    private static Packet From6(byte trafficClass = 0) =>
        Packet.Eth(LbMac, ClientMac).IPv6(Client6, Vip6, flowLabel: 0x54321, hopLimit: 61, trafficClass: trafficClass);

    private static uint Hash(string client, string vip, ushort sport, ushort dport, byte proto) =>
        DsrFlowHash.Compute(IPAddress.Parse(client), IPAddress.Parse(vip), sport, dport, proto);

    /// <summary>The expected frame: outer Ethernet + IPv6 (RFC 2473: traffic class copied, RFC 6438 flow label,
    /// hop limit 64) around the client's packet, unchanged.</summary>
    private static byte[] Encapsulated6(byte[] frame, string backend, byte nextHeader, byte trafficClass, uint hash, int l2 = 14) =>
        Packet.Eth(NexthopMac, LbMac).IPv6(LbSource6, backend, flowLabel: DsrFlowHash.FlowLabel(hash), hopLimit: 64,
            nextHeader: nextHeader, trafficClass: trafficClass).Payload(frame.AsSpan(l2)).Build();

    [TestMethod]
    public void TcpToIPv6VipIsEncapsulatedInIPv6WithItsTrafficClassAndFlowLabel()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        const byte EfEct1 = 46 << 2 | 1; // DSCP EF, ECN ECT(1): the fabric's QoS and ECN see the client's marking
        var frame = From6(EfEct1).Tcp(40000, 80, flags: 0x10).Payload(32).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        CollectionAssert.AreEqual(Encapsulated6(frame, Backend6A, 41, EfEct1, Hash(Client6, Vip6, 40000, 80, 6)), output, Hex(output));
        var o = output.AsSpan(14, 40);
        Assert.AreEqual(0x86DD, BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(12)), "ethertype IPv6");
        Assert.AreEqual(6, o[0] >> 4, "version 6");
        Assert.AreEqual(EfEct1, (byte)(BinaryPrimitives.ReadUInt32BigEndian(o) >> 20), "traffic class copied (RFC 2473 5.1, RFC 6040 normal mode)");
        Assert.AreNotEqual(0u, BinaryPrimitives.ReadUInt32BigEndian(o) & 0xFFFFF, "a flow label (RFC 6438)");
        Assert.AreEqual(frame.Length - 14, BinaryPrimitives.ReadUInt16BigEndian(o[4..]), "payload length: the client's packet");
        Assert.AreEqual((41, 64), (o[6], o[7]), "next header 41, hop limit 64");
        Assert.AreEqual(new DsrTraffic(1, (ulong)frame.Length - 14), lb.Objects.ReadBackendTraffic(1));
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.Tx]);
    }

    [TestMethod]
    public void FlowsOfOneServiceGetDifferentFlowLabels()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        var labels = Enumerable.Range(0, 16).Select(i =>
            BinaryPrimitives.ReadUInt32BigEndian(lb.Objects.TestRun(From6().Udp((ushort)(41000 + i), 53).Payload(8).Build()).Frame.AsSpan(14)) & 0xFFFFF).ToHashSet();
        Assert.IsGreaterThanOrEqualTo(15, labels.Count, "the label follows the flow hash");
    }

    [TestMethod]
    public void VlanTaggedIPv6UdpKeepsItsTag()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        var frame = Packet.Eth(LbMac, ClientMac).Vlan(100).IPv6(Client6, Vip6).Udp(40001, 53).Payload(20).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        var expected = Packet.Eth(NexthopMac, LbMac).Vlan(100).IPv6(LbSource6, Backend6B, flowLabel: DsrFlowHash.FlowLabel(Hash(Client6, Vip6, 40001, 53, 17)),
            nextHeader: 41).Payload(frame.AsSpan(18)).Build();
        Assert.AreEqual(XdpTx, verdict);
        CollectionAssert.AreEqual(expected, output, Hex(output));
    }

    [TestMethod]
    public void IPv4VipWithAnIPv6BackendIsEncapsulatedIPv4InIPv6()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        const byte Af41Ce = 34 << 2 | 3;
        var frame = Packet.Eth(LbMac, ClientMac).IPv4(Client4, Vip4, id: 0x1234, ttl: 61, tos: Af41Ce).Tcp(40000, 80, flags: 0x10).Payload(32).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        CollectionAssert.AreEqual(Encapsulated6(frame, Backend6C, 4, Af41Ce, Hash(Client4, Vip4, 40000, 80, 6)), output, Hex(output));
        Assert.AreEqual(0x86DD, BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(12)), "ethertype now IPv6");
        Assert.AreEqual(new DsrTraffic(1, (ulong)frame.Length - 14), lb.Objects.ReadBackendTraffic(3));
    }

    [TestMethod]
    public void IPv4TooBigForTheIPv6TunnelGetsFragmentationNeededWithMtuMinus40()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { Mtu = 1400 });
        lb.Objects.Apply(Tables());
        var p = Packet.Eth(LbMac, ClientMac).IPv4(Client4, Vip4, id: 0x1234);
        var frame = p.Tcp(40000, 80).Payload(1400 - 40 - 40 + 1).Build(); // 1361 inner: 1401 encapsulated in IPv6

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        var expectedIcmp = IcmpFragNeeded(1360, frame.AsSpan(14, 28));
        var expected = Packet.Eth(ClientMac, LbMac).IPv4(Vip4, Client4, id: 0, ttl: 64, protocol: 1, fragOff: 0).Payload(expectedIcmp).Build();
        CollectionAssert.AreEqual(expected, output, Hex(output));
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.IcmpTooBig]);

        var fits = p.Tcp(40000, 80).Payload(1400 - 40 - 40).Build();
        Assert.AreEqual(XdpTx, lb.Objects.TestRun(fits).Verdict);
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.Tx], "exactly MTU once encapsulated: sent");
    }

    /// <summary>A full-size packet (too big even for a 20-byte outer header) to an IPv6 backend: the MTU the
    /// client is told is still Mtu - 40. Told Mtu - 20, its next packets of that size would be refused again,
    /// one more round trip per connection (found by review: the IPv4 size check ran before the backend was known).</summary>
    [TestMethod]
    [DataRow(1400)]
    [DataRow(1381)]
    public void FullSizeIPv4ToAnIPv6BackendIsToldMtuMinus40(int innerLength)
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { Mtu = 1400 });
        lb.Objects.Apply(Tables());
        var frame = Packet.Eth(LbMac, ClientMac).IPv4(Client4, Vip4, id: 0x1234).Tcp(40000, 80, flags: 0x10).Payload(innerLength - 40).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        Assert.AreEqual((3, 4), (output[14 + 20], output[14 + 21]), "ICMP fragmentation needed");
        Assert.AreEqual(1360, BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(14 + 20 + 6)), "next-hop MTU: Mtu - 40 towards an IPv6 backend");
        Assert.AreEqual(0, Checksum.Fold(Checksum.Sum(output.AsSpan(14 + 20))), "ICMP checksum");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.IcmpTooBig]);
    }

    /// <summary>RFC 4443 3.2 and 2.4 (c): type 2 code 0, the MTU the tunnel leaves (Mtu - 40), as much of the
    /// client's packet as fits in 1280 bytes, from the VIP to the client, checksum over the pseudo-header.</summary>
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void IPv6TooBigGetsPacketTooBigWithMtuMinus40(bool vlan)
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { Mtu = 1400 });
        lb.Objects.Apply(Tables());
        var l2 = vlan ? 18 : 14;
        var eth = vlan ? Packet.Eth(LbMac, ClientMac).Vlan(5) : Packet.Eth(LbMac, ClientMac);
        var frame = eth.IPv6(Client6, Vip6).Tcp(40000, 80).Payload(1400 - 40 - 40 - 20 + 1).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        var icmp = new byte[8 + 1232];
        icmp[0] = 2;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.AsSpan(4), 1360);
        frame.AsSpan(l2, 1232).CopyTo(icmp.AsSpan(8));
        var pseudo = Checksum.Sum(IPAddress.Parse(Vip6).GetAddressBytes()) + Checksum.Sum(IPAddress.Parse(Client6).GetAddressBytes()) + 58u + (uint)icmp.Length;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum.Fold(Checksum.Sum(icmp) + pseudo));
        var back = vlan ? Packet.Eth(ClientMac, LbMac).Vlan(5) : Packet.Eth(ClientMac, LbMac);
        var expected = back.IPv6(Vip6, Client6, hopLimit: 64, nextHeader: 58).Payload(icmp).Build();
        Assert.AreEqual(l2 + 1280, output.Length, "the ICMPv6 packet is IPv6's minimum MTU");
        CollectionAssert.AreEqual(expected, output, Hex(output));
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.IcmpTooBig]);

        var fits = eth.IPv6(Client6, Vip6).Tcp(40000, 80).Payload(1400 - 40 - 40 - 20).Build();
        Assert.AreEqual(XdpTx, lb.Objects.TestRun(fits).Verdict);
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.Tx]);
    }

    [TestMethod]
    public void IPv6SynMssIsClampedForTheOuterIPv6Header()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        var frame = From6().Tcp(40000, 80, flags: 0x02, options: TcpOptions.LinuxSyn(1440)).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        var inner = 14 + 40;
        Assert.AreEqual(1500 - 40 - 40 - 20, BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(inner + 40 + 20 + 2)), "MTU - outer IPv6 - IPv6 - TCP");
        Assert.IsTrue(IPv6L4Valid(output, inner), "TCP checksum (IPv6 pseudo-header) after the clamp");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.MssClamped]);

        // The migration case: an IPv4 SYN to an IPv6 backend loses 40 bytes to the outer header, 20 to its own IP header.
        var syn4 = Packet.Eth(LbMac, ClientMac).IPv4(Client4, Vip4).Tcp(40000, 80, flags: 0x02, options: TcpOptions.LinuxSyn(1460)).Build();
        var out4 = lb.Objects.TestRun(syn4).Frame;
        Assert.AreEqual(1500 - 40 - 20 - 20, BinaryPrimitives.ReadUInt16BigEndian(out4.AsSpan(14 + 40 + 20 + 20 + 2)));
        Assert.IsTrue(Checksum.IPv4L4Valid(out4, 14 + 40));
    }

    [TestMethod]
    public void ExtensionHeadersAreWalkedAndFragmentsPass()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        var withOptions = From6().DestinationOptions(16).Tcp(40000, 80).Payload(8).Build();
        var (verdict, output) = lb.Objects.TestRun(withOptions);
        Assert.AreEqual(XdpTx, verdict, "destination options, then TCP to the service");
        CollectionAssert.AreEqual(Encapsulated6(withOptions, Backend6A, 41, 0, Hash(Client6, Vip6, 40000, 80, 6)), output);

        var fragment = From6().Fragment6(0, true, 7).Tcp(40000, 80).Payload(8).Build();
        Assert.AreEqual(XdpPass, lb.Objects.TestRun(fragment).Verdict);
        var icmp6 = From6().Icmp(128).Build(); // an echo request to the VIP (and neighbour discovery) is not a service's
        Assert.AreEqual(XdpPass, lb.Objects.TestRun(icmp6).Verdict);
        var otherPort = From6().Tcp(40000, 81).Build();
        Assert.AreEqual(XdpPass, lb.Objects.TestRun(otherPort).Verdict);

        var moved = lb.Moved();
        Assert.AreEqual((1ul, 1ul, 2ul), (moved[DsrCounter.Tx], moved[DsrCounter.PassFragment], moved[DsrCounter.PassNotVip]));
    }

    public static IEnumerable<object[]> MalformedCases
    {
        get
        {
            var tcp = From6().Tcp(40000, 80).Build();
            var longer = (byte[])tcp.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(longer.AsSpan(14 + 4), (ushort)(tcp.Length - 14 - 40 + 1));
            var shorter = (byte[])tcp.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(shorter.AsSpan(14 + 4), 10); // the TCP header past the payload length
            var version = (byte[])tcp.Clone();
            version[14] = 0x40;
            var cutOptions = From6().DestinationOptions(16).Tcp().Build()[..(14 + 40 + 10)];
            return
            [
                ["truncated-ipv6", tcp[..(14 + 30)]],
                ["truncated-tcp", tcp[..(14 + 40 + 10)]],
                ["payload-length-past-frame", longer],
                ["tcp-past-payload-length", shorter],
                ["version-not-6", version],
                ["truncated-extension-header", cutOptions],
            ];
        }
    }

    [TestMethod]
    [DynamicData(nameof(MalformedCases))]
    public void MalformedIPv6IsDroppedAndCounted(string name, byte[] frame)
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());

        Assert.AreEqual(XdpDrop, lb.Objects.TestRun(frame).Verdict, name);
        var moved = lb.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(DsrCounter.Malformed), name);
        Assert.AreEqual(1, moved.Count(kv => kv.Key.IsOutcome()), $"{name}: one outcome");
    }

    [TestMethod]
    public void EstablishedIPv6FlowKeepsItsBackendAndMaglevUsesTheIPv6Hash()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        var table = Filled(1);
        table[DsrFlowHash.Slot(Hash(Client6, Vip6, 40007, 80, 6))] = 2; // only this flow's slot points at backend 2
        lb.Objects.Apply(Tables() with { MaglevTables = new Dictionary<uint, uint[]> { [Tcp6] = table, [Udp6] = Filled(2), [Mixed4] = Filled(3) } });
        Assert.AreEqual(Backend6B, Destination6(lb.Objects.TestRun(From6().Tcp(40007, 80, flags: 0x02).Build()).Frame));
        Assert.AreEqual(Backend6A, Destination6(lb.Objects.TestRun(From6().Tcp(40008, 80, flags: 0x02).Build()).Frame));

        var established = From6().Tcp(40000, 80, flags: 0x10).Build();
        lb.Objects.Apply(Tables(tcp6Backend: 1));
        Assert.AreEqual(Backend6A, Destination6(lb.Objects.TestRun(established).Frame));
        lb.Objects.Apply(Tables(tcp6Backend: 2));
        Assert.AreEqual(Backend6A, Destination6(lb.Objects.TestRun(established).Frame), "established flow stays");
        Assert.AreEqual(Backend6B, Destination6(lb.Objects.TestRun(From6().Tcp(40000, 80, flags: 0x02).Build()).Frame), "a SYN consults Maglev");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.ConnHit]);
        Assert.AreEqual(3, lb.Objects.CountConnections().Values.Sum(), "the IPv6 table's entries counted (flows 40007, 40008, 40000)");
        Assert.AreEqual(1, lb.Objects.DeleteConnections(1), "and deleted: 40008 is backend 1's, 40000 went to 2 with its SYN");
    }

    [TestMethod]
    public void ApplyRefusesAnIPv4BackendInAnIPv6VipsTable()
    {
        using var lb = new DsrUnderTest();
        var tables = Tables();
        var ex = Assert.ThrowsExactly<ArgumentException>(() => lb.Objects.Apply(tables with
        {
            MaglevTables = new Dictionary<uint, uint[]> { [Tcp6] = Filled(4), [Udp6] = Filled(2), [Mixed4] = Filled(3) },
        }));
        StringAssert.Contains(ex.Message, "IPv6 VIP's table names IPv4 backend 4");
        Assert.ThrowsExactly<ArgumentException>(() => DsrTableBuilder.Build([new DsrServiceConfig(IPAddress.Parse(Vip6), 80, 6,
            [new DsrBackendConfig(IPAddress.Parse(Backend4))])]));
    }

    /// <summary>True when the TCP or UDP segment of the IPv6 packet (no extension headers) at <paramref name="ip"/> has a valid checksum.</summary>
    private static bool IPv6L4Valid(byte[] frame, int ip)
    {
        var length = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(ip + 4));
        var pseudo = Checksum.Sum(frame.AsSpan(ip + 8, 32)) + frame[ip + 6] + (uint)length;
        return Checksum.Fold(Checksum.Sum(frame.AsSpan(ip + 40, length)) + pseudo) == 0;
    }

    /// <summary>ICMP destination unreachable / fragmentation needed with its checksum: the builder's own.</summary>
    private static byte[] IcmpFragNeeded(ushort mtu, ReadOnlySpan<byte> quote)
    {
        var icmp = new byte[8 + quote.Length];
        (icmp[0], icmp[1]) = (3, 4);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), mtu);
        quote.CopyTo(icmp.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum.Fold(Checksum.Sum(icmp)));
        return icmp;
    }

    private static string Destination6(byte[] frame) => new IPAddress(frame.AsSpan(14 + 24, 16)).ToString();

    private static string Hex(byte[] b) => Convert.ToHexString(b.AsSpan(0, Math.Min(b.Length, 100)));
}
