using System.Buffers.Binary;
using System.Net;
using SfcProxy.Bpf;
using SfcProxy.Dsr;
using SfcProxy.Net;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// dsr_lb in the real kernel through BPF_PROG_TEST_RUN: exact outer headers, pass-through,
/// connection table across a table swap, ICMP fragmentation needed, MSS clamp, malformed input.
/// The config uses <see cref="DsrConfigFlag.StaticNexthop"/> (no FIB lookup), so the outer
/// Ethernet header is known: next hop MAC as destination, the LB's MAC (the frame's) as source.
/// </summary>
[TestClass]
public sealed class DsrDatapathTests
{
    private const uint XdpDrop = 1, XdpPass = 2, XdpTx = 3;

    private static readonly byte[] LbMac = [0x02, 0, 0, 0, 0, 0x10];
    private static readonly byte[] ClientMac = [0x02, 0, 0, 0, 0, 0x20];
    private static readonly byte[] NexthopMac = [0x02, 0, 0, 0, 0, 0x30];
    private const string Vip = "198.51.100.10", Client = "203.0.113.5", LbSource = "10.0.0.1";
    private const string Backend1 = "10.1.0.1", Backend2 = "10.1.0.2";
    private const uint TcpService = 0, UdpService = 7;

    private static readonly DsrSettings Static = new(Source: IPAddress.Parse(LbSource), Flags: DsrConfigFlag.StaticNexthop, NexthopMac: NexthopMac);

    /// <summary>Both services on backend <paramref name="tcpBackend"/> / <paramref name="udpBackend"/> in every slot.</summary>
    private static DsrTables Tables(uint tcpBackend = 1, uint udpBackend = 2, bool withBackend1 = true) => new(
        [
            new DsrService(TcpService, IPAddress.Parse(Vip), 80, 6),
            new DsrService(UdpService, IPAddress.Parse(Vip), 53, 17),
        ],
        withBackend1
            ? [new DsrBackend(1, IPAddress.Parse(Backend1)), new DsrBackend(2, IPAddress.Parse(Backend2))]
            : [new DsrBackend(2, IPAddress.Parse(Backend2))],
        new Dictionary<uint, uint[]>
        {
            [TcpService] = Filled(tcpBackend),
            [UdpService] = Filled(udpBackend),
        });

    private static uint[] Filled(uint id) => Enumerable.Repeat(id, DsrTables.MaglevTableSize).ToArray();

    private static Packet FromClient(string client = Client, ushort fragOff = 0x4000) =>
        Packet.Eth(LbMac, ClientMac).IPv4(client, Vip, id: 0x1234, ttl: 61, fragOff: fragOff);

    /// <summary>The expected frame: outer Ethernet + IPv4 (built independently by the Packet builder) around the inner IP packet.
    /// <paramref name="id"/>: the outer ID, 0 with DF (RFC 6864 4.2, atomic); a DF-clear test passes the one the output has,
    /// after checking it is not 0 (DsrOuterHeaderTests judges the ID rule).</summary>
    private static byte[] Encapsulated(byte[] frame, string source, string backend, bool df = true, ushort id = 0) =>
        Packet.Eth(NexthopMac, LbMac).IPv4(source, backend, id: id, ttl: 64, protocol: 4, fragOff: df ? (ushort)0x4000 : (ushort)0)
            .Payload(frame.AsSpan(14)).Build();

    /// <summary>The outer IPv4 ID of an encapsulated frame (untagged), asserted non-zero: a DF-clear outer header is not atomic.</summary>
    private static ushort NonZeroOuterId(byte[] output)
    {
        var id = BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(14 + 4));
        Assert.AreNotEqual(0, id, "a DF-clear outer header gets a real ID (RFC 6864 4.3)");
        return id;
    }

    [TestMethod]
    public void TcpToVipIsEncapsulatedWithExactOuterHeader()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        var frame = FromClient().Tcp(40000, 80, flags: 0x10).Payload(32).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        CollectionAssert.AreEqual(Encapsulated(frame, LbSource, Backend1), output, Hex(output));
        // The outer header field by field (the builder's copy above could share a mistake).
        var o = output.AsSpan(14, 20);
        Assert.AreEqual(0x45, o[0], "version 4, IHL 5");
        Assert.AreEqual(frame.Length - 14 + 20, BinaryPrimitives.ReadUInt16BigEndian(o[2..]), "outer total length");
        Assert.AreEqual(0, BinaryPrimitives.ReadUInt16BigEndian(o[4..]), "id 0");
        Assert.AreEqual(0x4000, BinaryPrimitives.ReadUInt16BigEndian(o[6..]), "DF copied from the inner packet");
        Assert.AreEqual((64, 4), (o[8], o[9]), "TTL 64, protocol 4 (IP-in-IP)");
        Assert.IsTrue(Checksum.IPv4HeaderValid(output, 14), "outer IPv4 checksum");
        CollectionAssert.AreEqual(frame[14..], output[34..], "inner packet unchanged");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.Tx]);
        Assert.AreEqual(new DsrTraffic(1, (ulong)frame.Length - 14), lb.Objects.ReadBackendTraffic(1), "bytes: the client's IPv4 packet");
        Assert.AreEqual(new DsrTraffic(1, (ulong)frame.Length - 14), lb.Objects.ReadServiceTraffic(TcpService));
    }

    [TestMethod]
    public void UdpToVipTakesPerFlowSourceFromThePrefixAndKeepsDfClear()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { SourcePrefix = IPNetwork.Parse("10.2.0.0/16") });
        lb.Objects.Apply(Tables());
        var frame = FromClient(fragOff: 0).Udp(40001, 53).Payload(20).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        var hash = DsrFlowHash.Compute(IPAddress.Parse(Client), IPAddress.Parse(Vip), 40001, 53, 17);
        var source = $"10.2.{(hash >> 8) & 0xFF}.{hash & 0xFF}";
        Assert.AreEqual(XdpTx, verdict);
        CollectionAssert.AreEqual(Encapsulated(frame, source, Backend2, df: false, id: NonZeroOuterId(output)), output, Hex(output));
        Assert.IsTrue(Checksum.IPv4HeaderValid(output, 14));

        // Another client port: another flow, another source in the same prefix.
        var other = lb.Objects.TestRun(FromClient(fragOff: 0).Udp(40002, 53).Payload(20).Build()).Frame;
        Assert.AreEqual((10, 2), (other[26], other[27]));
        Assert.AreNotEqual((output[28], output[29]), (other[28], other[29]), "flows spread over the prefix");
    }

    [TestMethod]
    public void MaglevSlotIsFlowHashModuloTableSize()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        var table = Filled(1);
        var hash = DsrFlowHash.Compute(IPAddress.Parse(Client), IPAddress.Parse(Vip), 40000, 80, 6);
        table[DsrFlowHash.Slot(hash)] = 2; // only this flow's slot points at backend 2
        lb.Objects.Apply(Tables() with { MaglevTables = new Dictionary<uint, uint[]> { [TcpService] = table, [UdpService] = Filled(1) } });

        var flow = lb.Objects.TestRun(FromClient().Tcp(40000, 80, flags: 0x02).Build()).Frame;
        var neighbour = lb.Objects.TestRun(FromClient().Tcp(40003, 80, flags: 0x02).Build()).Frame;
        Assert.AreEqual(Backend2, new IPAddress(flow.AsSpan(30, 4)).ToString());
        Assert.AreEqual(Backend1, new IPAddress(neighbour.AsSpan(30, 4)).ToString());
    }

    [TestMethod]
    public void NonVipTrafficPassesUntouched()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        byte[][] frames =
        [
            FromClient().Tcp(40000, 81).Build(),                                 // VIP, other port
            FromClient().Udp(40000, 80).Build(),                                 // VIP, port of the TCP service over UDP
            Packet.Eth(LbMac, ClientMac).IPv4(Client, "198.51.100.11").Tcp(40000, 80).Build(), // other address
            FromClient().IcmpEcho().Build(),                                     // VIP, ICMP
        ];
        foreach (var f in frames)
        {
            var (verdict, output) = lb.Objects.TestRun(f);
            Assert.AreEqual(XdpPass, verdict);
            CollectionAssert.AreEqual(f, output, "untouched");
        }
        var arp = Packet.Eth(etherType: 0x0806).Payload(28).Build();
        Assert.AreEqual(XdpPass, lb.Objects.TestRun(arp).Verdict);
        var v6 = Packet.Eth().IPv6().Tcp().Build(); // IPv6 to no IPv6 service
        Assert.AreEqual(XdpPass, lb.Objects.TestRun(v6).Verdict);
        var fragment = FromClient(fragOff: 0x2000).Tcp(40000, 80).Build();
        Assert.AreEqual(XdpPass, lb.Objects.TestRun(fragment).Verdict);

        var moved = lb.Moved();
        Assert.AreEqual(5ul, moved[DsrCounter.PassNotVip]);
        Assert.AreEqual(1ul, moved[DsrCounter.PassNotIp]);
        Assert.AreEqual(1ul, moved[DsrCounter.PassFragment]);
        Assert.AreEqual(7ul, moved.Where(kv => kv.Key.IsOutcome()).Sum(kv => (long)kv.Value) is var n ? (ulong)n : 0);
    }

    [TestMethod]
    public void VlanTaggedVipTrafficKeepsItsTags()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables());
        var frame = Packet.Eth(LbMac, ClientMac).Vlan(100).IPv4(Client, Vip).Tcp(40000, 80).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        var expected = Packet.Eth(NexthopMac, LbMac).Vlan(100).IPv4(LbSource, Backend1, id: 0, protocol: 4).Payload(frame.AsSpan(18)).Build();
        Assert.AreEqual(XdpTx, verdict);
        CollectionAssert.AreEqual(expected, output, Hex(output));
    }

    [TestMethod]
    public void EstablishedFlowKeepsItsBackendAcrossATableSwap()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables(tcpBackend: 1));
        var established = FromClient().Tcp(40000, 80, flags: 0x10).Build();
        Assert.AreEqual(Backend1, Destination(lb.Objects.TestRun(established).Frame));

        // Backend 1 drained: the new table has only backend 2, backend 1 still exists.
        lb.Objects.Apply(Tables(tcpBackend: 2));
        Assert.AreEqual(Backend1, Destination(lb.Objects.TestRun(established).Frame), "established flow stays");
        var newFlow = FromClient().Tcp(40001, 80, flags: 0x02).Build();
        Assert.AreEqual(Backend2, Destination(lb.Objects.TestRun(newFlow).Frame), "new flow follows the new table");
        var reusedSyn = FromClient().Tcp(40000, 80, flags: 0x02).Build();
        Assert.AreEqual(Backend2, Destination(lb.Objects.TestRun(reusedSyn).Frame), "a SYN consults Maglev");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.ConnHit]);

        // Backend 1 removed entirely: its flows fall back to the table instead of being dropped.
        var other = FromClient().Tcp(40005, 80, flags: 0x10).Build();
        lb.Objects.Apply(Tables(tcpBackend: 1));
        Assert.AreEqual(Backend1, Destination(lb.Objects.TestRun(other).Frame));
        lb.Objects.Apply(Tables(tcpBackend: 2, withBackend1: false));
        Assert.AreEqual(Backend2, Destination(lb.Objects.TestRun(other).Frame), "removed backend: Maglev again");
    }

    [TestMethod]
    public void ServiceWithoutBackendDropsAndRemovedServicePasses()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static);
        lb.Objects.Apply(Tables(tcpBackend: 0));
        var frame = FromClient().Tcp(40000, 80).Build();
        Assert.AreEqual(XdpDrop, lb.Objects.TestRun(frame).Verdict);
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.NoBackend]);

        lb.Objects.Apply(new DsrTables([], [], new Dictionary<uint, uint[]>()));
        Assert.AreEqual(XdpPass, lb.Objects.TestRun(frame).Verdict);
        Assert.IsFalse(lb.Objects.Maglev.HasInner(TcpService), "the removed service's table is gone");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void TooBigWithDfAnswersFragmentationNeeded(bool vlan)
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { Mtu = 1400 });
        lb.Objects.Apply(Tables());
        var l2 = vlan ? 18 : 14;
        var p = vlan ? Packet.Eth(LbMac, ClientMac).Vlan(5).IPv4(Client, Vip, id: 0x1234) : FromClient();
        var frame = p.Tcp(40000, 80).Payload(1400 - 20 - 20 - 20 + 1).Build(); // inner 1381: 1401 encapsulated

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        Assert.AreEqual(l2 + 20 + 8 + 20 + 8, output.Length, Hex(output));
        CollectionAssert.AreEqual(ClientMac, output[..6], "to the client's MAC");
        CollectionAssert.AreEqual(LbMac, output[6..12]);
        CollectionAssert.AreEqual(frame[12..l2], output[12..l2], "ethertype and tags kept");
        var ip = output.AsSpan(l2);
        Assert.AreEqual(0x45, ip[0]);
        Assert.AreEqual(56, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        Assert.AreEqual(1, ip[9], "ICMP");
        Assert.AreEqual(Vip, new IPAddress(ip.Slice(12, 4)).ToString());
        Assert.AreEqual(Client, new IPAddress(ip.Slice(16, 4)).ToString());
        Assert.IsTrue(Checksum.IPv4HeaderValid(output, l2), "IP checksum");
        var icmp = ip[20..];
        Assert.AreEqual((3, 4), (icmp[0], icmp[1]), "destination unreachable, fragmentation needed");
        Assert.AreEqual(1380, BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]), "next-hop MTU = MTU - 20");
        Assert.AreEqual(0, Checksum.Fold(Checksum.Sum(icmp)), "ICMP checksum");
        CollectionAssert.AreEqual(frame[l2..(l2 + 28)], icmp[8..].ToArray(), "original IP header + 8 bytes");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.IcmpTooBig]);

        // One byte less fits.
        var fits = p.Tcp(40000, 80).Payload(1400 - 60).Build();
        Assert.AreEqual(XdpTx, lb.Objects.TestRun(fits).Verdict);
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.Tx]);
    }

    [TestMethod]
    public void TooBigWithoutDfIsEncapsulatedForTheStackToFragment()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { Mtu = 1400 });
        lb.Objects.Apply(Tables());
        var frame = FromClient(fragOff: 0).Udp(40000, 53).Payload(1400).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpPass, verdict);
        var expected = Packet.Eth(LbMac, ClientMac).IPv4(LbSource, Backend2, id: NonZeroOuterId(output), protocol: 4, fragOff: 0).Payload(frame.AsSpan(14)).Build();
        CollectionAssert.AreEqual(expected, output, "MACs untouched (for the stack), outer DF clear");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.PassTooBig]);
    }

    public static IEnumerable<object[]> MssCases =>
    [
        // options, MSS offset in the options, mss_clamp config, expected MSS
        [TcpOptions.LinuxSyn(1460), 0, 0u, (ushort)1440],
        [(byte[])[TcpOptions.Nop, .. TcpOptions.Mss(1460), .. TcpOptions.WindowScale(7)], 1, 0u, (ushort)1440], // value at an odd offset
        [(byte[])[TcpOptions.Nop, TcpOptions.Nop, .. TcpOptions.Timestamps(5, 0), .. TcpOptions.Mss(9000)], 12, 0u, (ushort)1440],
        [TcpOptions.LinuxSyn(1460), 0, 1200u, (ushort)1200],
        [TcpOptions.LinuxSyn(1300), 0, 0u, (ushort)1300], // already small enough
    ];

    [TestMethod]
    [DynamicData(nameof(MssCases))]
    public void SynMssIsClampedWithAValidChecksum(byte[] options, int mssOffset, uint clamp, ushort expected)
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { MssClamp = clamp });
        lb.Objects.Apply(Tables());
        var frame = FromClient().Tcp(40000, 80, flags: 0x02, options: options).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        var inner = 34;
        var mss = BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(inner + 20 + 20 + mssOffset + 2));
        Assert.AreEqual(expected, mss);
        Assert.IsTrue(Checksum.IPv4L4Valid(output, inner), "TCP checksum after the clamp");
        // Nothing else in the inner packet changed.
        var original = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 20 + 20 + mssOffset + 2));
        var diff = Enumerable.Range(0, frame.Length - 14).Where(i => frame[14 + i] != output[inner + i]).ToArray();
        Assert.IsTrue(diff.All(i => i is 36 or 37 || i == 40 + mssOffset + 2 || i == 40 + mssOffset + 3), $"changed bytes: {string.Join(",", diff)}");
        Assert.AreEqual(original != expected ? 1ul : 0ul, lb.Moved().GetValueOrDefault(DsrCounter.MssClamped));
    }

    [TestMethod]
    public void MssClampCanBeSwitchedOffAndSparesNonSyns()
    {
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Static with { Flags = DsrConfigFlag.StaticNexthop | DsrConfigFlag.NoMssClamp });
        lb.Objects.Apply(Tables());
        var syn = FromClient().Tcp(40000, 80, flags: 0x02, options: TcpOptions.LinuxSyn(1460)).Build();
        CollectionAssert.AreEqual(syn[14..], lb.Objects.TestRun(syn).Frame[34..]);

        lb.Objects.WriteConfig(Static);
        var synAck = FromClient().Tcp(40000, 80, flags: 0x12, options: TcpOptions.LinuxSyn(1460)).Build();
        CollectionAssert.AreEqual(synAck[14..], lb.Objects.TestRun(synAck).Frame[34..]);
        Assert.AreEqual(0ul, lb.Moved().GetValueOrDefault(DsrCounter.MssClamped));
    }

    public static IEnumerable<object[]> MalformedCases
    {
        get
        {
            var tcp = FromClient().Tcp(40000, 80).Build();
            var udp = FromClient().Udp(40000, 53).Build();
            var ihl = (byte[])tcp.Clone();
            ihl[14] = 0x43;
            var longer = (byte[])tcp.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(longer.AsSpan(16), (ushort)(tcp.Length - 14 + 1));
            var shorter = (byte[])tcp.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(shorter.AsSpan(16), 19);
            var doff = (byte[])tcp.Clone();
            doff[14 + 20 + 12] = 4 << 4;
            var doffPast = (byte[])tcp.Clone();
            doffPast[14 + 20 + 12] = 15 << 4;
            var vlan = Packet.Eth().Vlan(100).IPv4().Build();
            return
            [
                ["truncated-ipv4", tcp[..(14 + 12)]],
                ["truncated-tcp", tcp[..(14 + 20 + 10)]],
                ["truncated-udp", udp[..(14 + 20 + 4)]],
                ["ihl-3", ihl],
                ["total-length-past-frame", longer],
                ["total-length-below-header", shorter],
                ["tcp-data-offset-4", doff],
                ["tcp-data-offset-past-frame", doffPast],
                ["truncated-vlan", vlan[..16]],
            ];
        }
    }

    [TestMethod]
    [DynamicData(nameof(MalformedCases))]
    public void MalformedInputIsDroppedAndCounted(string name, byte[] frame)
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
    public void ApplyRejectsTablesTheDatapathCannotHold()
    {
        using var lb = new DsrUnderTest();
        Assert.ThrowsExactly<ArgumentException>(() => lb.Objects.Apply(Tables() with { Backends = [new DsrBackend(2, IPAddress.Parse(Backend2))] }),
            "table names backend 1 which is not defined");
        Assert.ThrowsExactly<ArgumentException>(() => lb.Objects.Apply(Tables() with
        {
            MaglevTables = new Dictionary<uint, uint[]> { [TcpService] = new uint[7], [UdpService] = Filled(1) },
        }));
        Assert.AreEqual(0, lb.Objects.Services.Count(), "nothing applied");
    }

    /// <summary>
    /// The next hop from bpf_fib_lookup, in a throw-away namespace: veth0 10.1.0.254/24 with a
    /// permanent neighbour for backend 1. Arriving on veth0: XDP_TX with the FIB's MACs; arriving
    /// on veth1: redirect to veth0. A backend without a route: the configured next hop MAC
    /// (FIB_FALLBACK) or, with none configured, the encapsulated packet to the stack (PASS_ENCAP).
    /// </summary>
    [TestMethod]
    public void NextHopComesFromTheFibWithDocumentedFallbacks()
    {
        BpfEnvironmentCheck.Require();
        using var net = SfcProxy.Tests.Bpf.TestNetwork.Create();
        net.IpIn($"addr add 10.1.0.254/24 dev {SfcProxy.Tests.Bpf.TestNetwork.Veth0}");
        net.IpIn($"neigh replace {Backend1} lladdr 02:00:00:00:00:aa dev {SfcProxy.Tests.Bpf.TestNetwork.Veth0} nud permanent");
        Sysctl(net.Name, "net.ipv4.ip_forward=1"); // bpf_fib_lookup answers FWD_DISABLED otherwise
        var veth0Mac = Convert.FromHexString(net.IpIn($"-br link show {SfcProxy.Tests.Bpf.TestNetwork.Veth0}")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[2].Replace(":", "", StringComparison.Ordinal));
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(new DsrSettings(Source: IPAddress.Parse(LbSource)));
        var tables = Tables();
        lb.Objects.Apply(tables with
        {
            Backends = [.. tables.Backends, new DsrBackend(3, IPAddress.Parse("10.9.9.9"))],
            MaglevTables = new Dictionary<uint, uint[]> { [TcpService] = Filled(1), [UdpService] = Filled(3) },
        });
        var tcp = FromClient().Tcp(40000, 80).Build();
        var udp = FromClient().Udp(40000, 53).Build();

        net.Run(() =>
        {
            int veth0 = SfcProxy.Net.NetDevice.IfIndex(SfcProxy.Tests.Bpf.TestNetwork.Veth0);
            int veth1 = SfcProxy.Net.NetDevice.IfIndex(SfcProxy.Tests.Bpf.TestNetwork.Veth1);

            var (verdict, output) = lb.Objects.TestRun(tcp, veth0);
            Assert.AreEqual(XdpTx, verdict, "egress is the ingress interface");
            CollectionAssert.AreEqual(new byte[] { 2, 0, 0, 0, 0, 0xaa }, output[..6], "neighbour's MAC");
            CollectionAssert.AreEqual(veth0Mac, output[6..12], "egress interface's MAC");
            Assert.AreEqual(Backend1, Destination(output));

            Assert.AreEqual(4u, lb.Objects.TestRun(tcp, veth1).Verdict, "XDP_REDIRECT to veth0");

            var (passVerdict, passed) = lb.Objects.TestRun(udp, veth0);
            Assert.AreEqual(XdpPass, passVerdict, "no route, no configured next hop: to the stack");
            CollectionAssert.AreEqual(udp[..12], passed[..12], "MACs untouched");
            Assert.AreEqual("10.9.9.9", Destination(passed), "encapsulated all the same");

            lb.Objects.WriteConfig(new DsrSettings(Source: IPAddress.Parse(LbSource), NexthopMac: NexthopMac));
            var (fallbackVerdict, fallback) = lb.Objects.TestRun(udp, veth0);
            Assert.AreEqual(XdpTx, fallbackVerdict);
            CollectionAssert.AreEqual(NexthopMac, fallback[..6]);
            CollectionAssert.AreEqual(LbMac, fallback[6..12]);
        });
        var moved = lb.Moved();
        Assert.AreEqual((2ul, 1ul, 1ul, 1ul), (moved[DsrCounter.Tx], moved[DsrCounter.Redirect], moved[DsrCounter.PassEncap], moved[DsrCounter.FibFallback]));
    }

    private static void Sysctl(string netns, string setting)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip", $"netns exec {netns} sysctl -qw {setting}")
        {
            RedirectStandardError = true,
        })!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.AreEqual(0, p.ExitCode, $"sysctl {setting} in {netns}: {error}");
    }

    private static string Destination(byte[] frame) => new IPAddress(frame.AsSpan(30, 4)).ToString();

    private static string Hex(byte[] b) => Convert.ToHexString(b.AsSpan(0, Math.Min(b.Length, 80)));
}

internal sealed class DsrUnderTest : IDisposable
{
    private readonly BpfPins _pins = new($"dsrtest-{Guid.NewGuid():N}"[..20]);

    public DsrUnderTest()
    {
        BpfEnvironmentCheck.Require();
        try
        {
            Objects = DsrObjects.Load(_pins);
        }
        catch
        {
            _pins.Remove();
            throw;
        }
    }

    public DsrObjects Objects { get; }

    /// <summary>Counters that moved since loading.</summary>
    public Dictionary<DsrCounter, ulong> Moved() =>
        Objects.ReadCounters().Where(kv => kv.Value != 0).ToDictionary(kv => kv.Key, kv => kv.Value);

    public void Dispose()
    {
        try
        {
            Objects.Dispose();
        }
        finally
        {
            _pins.Remove();
        }
    }
}
