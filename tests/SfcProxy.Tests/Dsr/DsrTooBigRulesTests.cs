using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using SfcProxy.Dsr;
using SfcProxy.Net;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// When dsr_lb must not answer a packet too big for the tunnel, in the real kernel through BPF_PROG_TEST_RUN
/// (found by review: every such packet was answered). RFC 1122 3.2.2 and RFC 4443 2.4 (e): no error about an
/// ICMP error, a packet from a source that is no single host, an IPv4 packet to a broadcast or multicast
/// address (IP or link layer); RFC 1812 4.3.2.8 and RFC 4443 2.4 (f): the rate of errors is limited (XDP
/// bypasses the kernel's icmp_ratelimit). Such packets are dropped unchanged, counted too_big_suppressed or
/// too_big_limited. Also the MSS clamp with the SYN's own extension headers or IPv4 options.
/// </summary>
[TestClass]
public sealed class DsrTooBigRulesTests
{
    private const uint XdpDrop = 1, XdpPass = 2, XdpTx = 3;

    private static readonly byte[] LbMac = [0x02, 0, 0, 0, 0, 0x10];
    private static readonly byte[] ClientMac = [0x02, 0, 0, 0, 0, 0x20];
    private static readonly byte[] NexthopMac = [0x02, 0, 0, 0, 0, 0x30];
    private const string Vip4 = "198.18.60.10", Client4 = "198.18.50.5", Vip4Over6 = "198.18.60.20", Multicast4 = "239.1.2.3";
    private const string Vip6 = "2001:2:60::10", Client6 = "2001:2:50::5", Multicast6 = "ff0e::10";
    private const string LbSource4 = "198.18.61.1", LbSource6 = "2001:2:ff::1";
    private const uint Tcp4 = 0, Tcp6 = 1, Tcp4Over6 = 2, Udp4Multicast = 3, Udp6Multicast = 4;

    private static readonly DsrSettings Static = new(Source: IPAddress.Parse(LbSource4), Flags: DsrConfigFlag.StaticNexthop,
        NexthopMac: NexthopMac, Source6: IPAddress.Parse(LbSource6), Mtu: 1400);

    /// <summary>TCP/80 on an IPv4 VIP (IPv4 backend), an IPv6 VIP, an IPv4 VIP over IPv6; UDP/5000 on an IPv4 and an
    /// IPv6 multicast address (the validator takes no such VIP; the datapath must still not answer the first).</summary>
    private static DsrTables Tables() => new(
        [
            new DsrService(Tcp4, IPAddress.Parse(Vip4), 80, 6),
            new DsrService(Tcp6, IPAddress.Parse(Vip6), 80, 6),
            new DsrService(Tcp4Over6, IPAddress.Parse(Vip4Over6), 80, 6),
            new DsrService(Udp4Multicast, IPAddress.Parse(Multicast4), 5000, 17),
            new DsrService(Udp6Multicast, IPAddress.Parse(Multicast6), 5000, 17),
        ],
        [new DsrBackend(1, IPAddress.Parse("198.18.62.1")), new DsrBackend(2, IPAddress.Parse("2001:2:70::1"))],
        new Dictionary<uint, uint[]> { [Tcp4] = Filled(1), [Tcp6] = Filled(2), [Tcp4Over6] = Filled(2), [Udp4Multicast] = Filled(1), [Udp6Multicast] = Filled(2) });

    private static uint[] Filled(uint id) => Enumerable.Repeat(id, DsrTables.MaglevTableSize).ToArray();

    private static DsrUnderTest Lb(DsrSettings? settings = null)
    {
        var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(settings ?? Static);
        lb.Objects.Apply(Tables());
        return lb;
    }

    /// <summary>1401 bytes once in the outer IPv4 header: too big for Mtu 1400, DF set.</summary>
    private static byte[] TooBig4(string src = Client4, string dst = Vip4, byte[]? dstMac = null, ushort dport = 80) =>
        dport == 80
            ? Packet.Eth(dstMac ?? LbMac, ClientMac).IPv4(src, dst, id: 7).Tcp(40000, 80).Payload(1400 - 20 - 40 + 1).Build()
            : Packet.Eth(dstMac ?? LbMac, ClientMac).IPv4(src, dst, id: 7).Udp(40000, dport).Payload(1400 - 20 - 28 + 1).Build();

    /// <summary>1401 bytes once in the outer IPv6 header.</summary>
    private static byte[] TooBig6(string src = Client6, string dst = Vip6, ushort dport = 80) =>
        dport == 80
            ? Packet.Eth(LbMac, ClientMac).IPv6(src, dst).Tcp(40000, 80).Payload(1400 - 40 - 60 + 1).Build()
            : Packet.Eth(LbMac, ClientMac).IPv6(src, dst).Udp(40000, dport).Payload(1400 - 40 - 48 + 1).Build();

    /// <summary>An ICMP fragmentation needed to the IPv4-over-IPv6 VIP about a reply to the client (dsr_lb forwards
    /// these to the backend), 560 bytes with DF: too big for a 576-byte tunnel with its 40-byte outer header.</summary>
    private static byte[] IcmpErrorTooBigForTheTunnel()
    {
        var reply = Packet.Eth(LbMac, ClientMac).IPv4(Vip4Over6, Client4, id: 77).Tcp(80, 40000, flags: 0x18).Payload(1400).Build();
        return Packet.Eth(LbMac, ClientMac).IPv4("198.18.99.1", Vip4Over6, id: 9).Icmp(3, 4, 0, 1400).Payload(reply.AsSpan(14, 560 - 28)).Build();
    }

    public static IEnumerable<object[]> Forbidden4
    {
        get
        {
            byte[] broadcastMac = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], multicastMac = [0x01, 0x00, 0x5e, 0, 0, 1];
            return
            [
                ["source 0.0.0.0", TooBig4(src: "0.0.0.0")],
                ["source 0/8", TooBig4(src: "0.1.2.3")],
                ["source loopback", TooBig4(src: "127.0.0.1")],
                ["source multicast", TooBig4(src: "224.0.0.5")],
                ["source class E", TooBig4(src: "240.0.0.1")],
                ["source broadcast", TooBig4(src: "255.255.255.255")],
                ["link-layer broadcast", TooBig4(dstMac: broadcastMac)],
                ["link-layer multicast", TooBig4(dstMac: multicastMac)],
                ["multicast destination", TooBig4(dst: Multicast4, dport: 5000)],
            ];
        }
    }

    [TestMethod]
    [DynamicData(nameof(Forbidden4))]
    public void IPv4TooBigThatMustNotBeAnsweredIsDroppedUnchanged(string name, byte[] frame)
    {
        using var lb = Lb();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpDrop, verdict, name);
        CollectionAssert.AreEqual(frame, output, $"{name}: not turned into an error");
        Assert.AreEqual(1ul, lb.Moved().GetValueOrDefault(DsrCounter.TooBigSuppressed), name);
        Assert.AreEqual(1, lb.Moved().Count(kv => kv.Key.IsOutcome()), $"{name}: one outcome");
    }

    /// <summary>RFC 1122 3.2.2 / RFC 4443 2.4 (e.1): an ICMP error about an ICMP error. A 576-byte tunnel to an
    /// IPv6 backend (536 left inside) is the one way a forwarded error can be too big; over IPv6 it cannot be
    /// (an ICMPv6 error of at most 1280 bytes always fits Mtu 1320 and more).</summary>
    [TestMethod]
    public void ForwardedIcmpErrorTooBigForTheTunnelIsNotAnsweredWithAnother()
    {
        using var lb = Lb(Static with { Mtu = 576 });
        var frame = IcmpErrorTooBigForTheTunnel();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpDrop, verdict);
        CollectionAssert.AreEqual(frame, output);
        var moved = lb.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(DsrCounter.TooBigSuppressed));
        Assert.IsFalse(moved.ContainsKey(DsrCounter.IcmpTooBig));
    }

    /// <summary>RFC 1122 3.2.2: no error about a non-first fragment; it passes to the stack before any size check.</summary>
    [TestMethod]
    public void NonFirstFragmentTooBigPassesUnanswered()
    {
        using var lb = Lb();
        var frame = Packet.Eth(LbMac, ClientMac).IPv4(Client4, Vip4, id: 7, protocol: 6, fragOff: 185).Payload(1400).Build();

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpPass, verdict);
        CollectionAssert.AreEqual(frame, output);
        Assert.AreEqual(1ul, lb.Moved().GetValueOrDefault(DsrCounter.PassFragment));
    }

    [TestMethod]
    [DataRow("::", DisplayName = "unspecified")]
    [DataRow("ff02::1", DisplayName = "multicast all-nodes")]
    [DataRow("ff0e::1:2", DisplayName = "multicast global")]
    [DataRow("::1", DisplayName = "loopback")]
    public void IPv6TooBigFromASourceThatIsNoSingleNodeIsDroppedUnchanged(string source)
    {
        using var lb = Lb();
        var frame = TooBig6(src: source);

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpDrop, verdict, source);
        CollectionAssert.AreEqual(frame, output, source);
        Assert.AreEqual(1ul, lb.Moved().GetValueOrDefault(DsrCounter.TooBigSuppressed), source);
        Assert.AreEqual(1, lb.Moved().Count(kv => kv.Key.IsOutcome()), "one outcome");
    }

    /// <summary>RFC 4443 2.4 (e.2), 3.2: packet too big is the exception to "no error about a packet to a multicast
    /// address", so path MTU discovery works for multicast: it is still answered (pins what the rule allows).</summary>
    [TestMethod]
    public void IPv6TooBigToAMulticastDestinationIsStillAnswered()
    {
        using var lb = Lb();
        var frame = TooBig6(dst: Multicast6, dport: 5000);

        var (verdict, output) = lb.Objects.TestRun(frame);

        Assert.AreEqual(XdpTx, verdict);
        Assert.AreEqual((58, 2), (output[14 + 6], output[14 + 40]), "ICMPv6 packet too big");
        Assert.AreEqual(Multicast6, new IPAddress(output.AsSpan(14 + 8, 16)).ToString(), "from the address the packet was sent to");
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.IcmpTooBig]);
    }

    /// <summary>RFC 1812 4.3.2.8, RFC 4443 2.4 (f): DsrLimits.IcmpPerSecond answers at once from a full bucket, IPv4
    /// and IPv6 alike from one bucket per CPU, then only what the bucket refills in the time the loop took; the
    /// rest are dropped unchanged, counted too_big_limited. The thread is pinned: the bucket is the CPU's.</summary>
    [TestMethod]
    public void TooBigAnswersAreLimitedPerCpu()
    {
        using var lb = Lb();
        var v4 = TooBig4();
        var v6 = TooBig6();
        const int Sent = DsrLimits.IcmpPerSecond * 2;
        var (answered, limitedUnchanged, elapsed) = CpuAffinity.On(0, () =>
        {
            int tx = 0, unchanged = 0;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Sent; i++)
            {
                var frame = i % 2 == 0 ? v4 : v6;
                var (verdict, output) = lb.Objects.TestRun(frame);
                if (verdict == XdpTx)
                    tx++;
                else if (verdict == XdpDrop && output.AsSpan().SequenceEqual(frame))
                    unchanged++;
            }
            return (tx, unchanged, clock.Elapsed);
        });

        var refill = (int)Math.Ceiling(elapsed.TotalSeconds * DsrLimits.IcmpPerSecond);
        Assert.IsGreaterThanOrEqualTo(DsrLimits.IcmpPerSecond, answered, "a full bucket answers the budget at once");
        Assert.IsLessThanOrEqualTo(DsrLimits.IcmpPerSecond + refill, answered, $"no more than the budget and its refill in {elapsed.TotalMilliseconds:F0} ms");
        Assert.AreEqual(Sent - answered, limitedUnchanged, "the rest dropped unchanged");
        var moved = lb.Moved();
        Assert.AreEqual((ulong)answered, moved[DsrCounter.IcmpTooBig]);
        Assert.AreEqual((ulong)(Sent - answered), moved[DsrCounter.TooBigLimited]);
    }

    /// <summary>A packet the RFC forbids answering takes no token: the budget is for the answers.</summary>
    [TestMethod]
    public void ForbiddenPacketsTakeNoToken()
    {
        using var lb = Lb();
        CpuAffinity.On(0, () =>
        {
            for (var i = 0; i < DsrLimits.IcmpPerSecond; i++)
                Assert.AreEqual(XdpDrop, lb.Objects.TestRun(TooBig4(src: "0.0.0.0")).Verdict);
            Assert.AreEqual(XdpTx, lb.Objects.TestRun(TooBig4()).Verdict, "the bucket is still full");
        });
        Assert.IsFalse(lb.Moved().ContainsKey(DsrCounter.TooBigLimited));
    }

    /// <summary>The SYN's own extension headers come off the MSS (found by review: a fixed 100 bytes of headers
    /// was allowed for, so a SYN with 16 bytes of destination options was clamped 16 bytes too high).</summary>
    [TestMethod]
    public void IPv6SynWithExtensionHeadersIsClampedForThem()
    {
        using var lb = Lb(Static with { Mtu = 1500 });
        var syn = Packet.Eth(LbMac, ClientMac).IPv6(Client6, Vip6).DestinationOptions(16).Tcp(40000, 80, flags: 0x02, options: TcpOptions.LinuxSyn(1440)).Build();

        var (verdict, output) = lb.Objects.TestRun(syn);

        const int Clamp = 1500 - 40 - 40 - 16 - 20; // outer IPv6, IPv6, destination options, TCP
        var clamped = Packet.Eth(LbMac, ClientMac).IPv6(Client6, Vip6).DestinationOptions(16).Tcp(40000, 80, flags: 0x02, options: TcpOptions.LinuxSyn((ushort)Clamp)).Build();
        var hash = DsrFlowHash.Compute(IPAddress.Parse(Client6), IPAddress.Parse(Vip6), 40000, 80, 6);
        var expected = Packet.Eth(NexthopMac, LbMac).IPv6(LbSource6, "2001:2:70::1", flowLabel: DsrFlowHash.FlowLabel(hash), nextHeader: 41)
            .Payload(clamped.AsSpan(14)).Build();
        Assert.AreEqual(XdpTx, verdict);
        Assert.AreEqual(Clamp, BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(14 + 40 + 40 + 16 + 20 + 2)), "the MSS");
        CollectionAssert.AreEqual(expected, output, "byte-exact, the TCP checksum as the builder computes it");
    }

    /// <summary>The same for IPv4 options: an IPv4 SYN with 8 bytes of options loses them too.</summary>
    [TestMethod]
    public void IPv4SynWithOptionsIsClampedForThem()
    {
        using var lb = Lb(Static with { Mtu = 1500 });
        byte[] options = [0x94, 0x04, 0, 0, 1, 1, 1, 0]; // router alert, NOP, NOP, NOP, end
        var syn = Packet.Eth(LbMac, ClientMac).IPv4(Client4, Vip4, options: options).Tcp(40000, 80, flags: 0x02, options: TcpOptions.LinuxSyn(1460)).Build();

        var (verdict, output) = lb.Objects.TestRun(syn);

        Assert.AreEqual(XdpTx, verdict);
        Assert.AreEqual(1500 - 20 - 28 - 20, BinaryPrimitives.ReadUInt16BigEndian(output.AsSpan(14 + 20 + 28 + 20 + 2)), "outer IPv4, IPv4 with options, TCP");
        Assert.IsTrue(Checksum.IPv4L4Valid(output, 14 + 20), "TCP checksum after the clamp");
    }
}
