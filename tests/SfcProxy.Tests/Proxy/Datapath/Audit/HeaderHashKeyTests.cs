using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// Issue 11, items 1-3: pairs of packets the audit found sharing one header-hash key, each in the VNF
/// at the same time with a stack of its own. Both must come back with their own stack, or the
/// second be refused at ingress (rx_key_conflict) — never leave with the other one's. Before the
/// key walked the extension headers, keyed short packets byte by byte and digested the payload,
/// every one of these restored the first packet's stack on the second.
/// </summary>
[TestClass]
public sealed class HeaderHashKeyTests
{
    private static readonly LabelStackEntry[] StackA = Stacks.Make(3);
    private static readonly LabelStackEntry[] StackB = [new(17017, 2, false, 40), new(17018, 5, true, 41)];

    private static byte[] Sfc(LabelStackEntry[] stack, Func<Packet, Packet> inner) =>
        inner(Stacks.Push(Packet.Eth(), stack)).BuildPadded();

    private static byte[] Restored(LabelStackEntry[] stack, byte[] vnfFrame)
    {
        var l2 = KernelVnf.L2Length(vnfFrame);
        var labels = Stacks.AfterVnf(stack, 1);
        var head = Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), labels).Payload(new byte[1]).Build();
        // Ethernet + labels, then the VNF's IP packet as it left the VNF
        return [.. head.AsSpan(0, head.Length - 1), .. vnfFrame.AsSpan(l2)];
    }

    /// <summary>Pops a then b (both cached at once), restores b then a: each gets its own stack.</summary>
    private static void EachKeepsItsOwn(Func<Packet, Packet> a, Func<Packet, Packet> b, string what)
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var ra = proxy.Rx(Sfc(StackA, a));
        var rb = proxy.Rx(Sfc(StackB, b));
        Assert.AreEqual(ProxyTestRuns.XdpPass, ra.Verdict, $"{what}: first popped");
        Assert.AreEqual(ProxyTestRuns.XdpPass, rb.Verdict, $"{what}: second popped: {XdpRxFixtureTests.Format(proxy.Moved())}");
        Assert.AreEqual(2, proxy.CacheEntries, $"{what}: two keys");

        var vb = KernelVnf.Forward(rb.Frame);
        var va = KernelVnf.Forward(ra.Frame);
        var tb = proxy.Tx(vb);
        var ta = proxy.Tx(va);
        CollectionAssert.AreEqual(Restored(StackB, vb), tb.Frame, $"{what}: the second leaves with its own stack");
        CollectionAssert.AreEqual(Restored(StackA, va), ta.Frame, $"{what}: the first leaves with its own stack");
        var moved = proxy.Moved();
        Assert.AreEqual(2ul, moved.GetValueOrDefault(Counter.RxPopped), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(2ul, moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    private static Func<Packet, Packet> TcpBehind(Func<Packet, Packet> ext, uint seq) =>
        p => ext(p.IPv6(hopLimit: 64)).Tcp(40000, 443, seq: seq, ack: 99).Payload(40, seed: 3);

    [TestMethod]
    public void TcpBehindHopByHop() =>
        EachKeepsItsOwn(TcpBehind(p => p.HopByHop(), 1), TcpBehind(p => p.HopByHop(), 2), "hop-by-hop");

    [TestMethod]
    public void TcpBehindRoutingHeader() =>
        EachKeepsItsOwn(TcpBehind(p => p.Routing(4, 1, "2001:2:9::1"), 1000), TcpBehind(p => p.Routing(4, 1, "2001:2:9::1"), 2000), "routing");

    [TestMethod]
    public void TcpBehindDestinationOptions() =>
        EachKeepsItsOwn(TcpBehind(p => p.DestinationOptions(16), 7), TcpBehind(p => p.DestinationOptions(16), 8), "destination options");

    [TestMethod]
    public void TcpBehindAFirstFragmentHeader() =>
        EachKeepsItsOwn(TcpBehind(p => p.Fragment6(0, true, 77), 1), TcpBehind(p => p.Fragment6(0, true, 77), 2), "fragment");

    [TestMethod]
    public void TcpBehindEveryExtensionHeader() =>
        EachKeepsItsOwn(TcpBehind(p => p.HopByHop().DestinationOptions().Routing(4, 1, "2001:2:9::1").Fragment6(0, true, 5).DestinationOptions(), 1),
            TcpBehind(p => p.HopByHop().DestinationOptions().Routing(4, 1, "2001:2:9::1").Fragment6(0, true, 5).DestinationOptions(), 2), "chain");

    /// <summary>NAT-T keepalives (RFC 3948: one 0xFF byte of UDP payload) of two flows.</summary>
    [TestMethod]
    [DataRow(4)]
    [DataRow(6)]
    public void OneByteUdpOfTwoFlows(int family)
    {
        Func<Packet, Packet> ka(ushort sport) => p => (family == 4 ? p.IPv4(id: 0, fragOff: 0x4000) : p.IPv6()).Udp(sport, 4500).Payload([0xFF]);
        EachKeepsItsOwn(ka(4500), ka(4501), $"NAT-T keepalive, IPv{family}");
    }

    [TestMethod]
    public void Icmpv6EchoesWithoutDataOfTwoIds() =>
        EachKeepsItsOwn(p => p.IPv6().IcmpEcho(1, 1), p => p.IPv6().IcmpEcho(2, 1), "ICMPv6 echo, no data");

    /// <summary>
    /// Two datagrams of one flow with the same UDP checksum and the same first 4 payload bytes (a
    /// QUIC short header starts with constant bytes): b's payload swaps two 16-bit words of a's,
    /// which leaves the ones' complement sum, so the checksum, as it is. IPv6, and IPv4 with DF and
    /// id 0 as Linux sends unconnected UDP.
    /// </summary>
    [TestMethod]
    [DataRow(4)]
    [DataRow(6)]
    public void QuicLikeDatagramsWithEqualChecksums(int family)
    {
        var (pa, pb) = WordSwapped(64);
        Func<Packet, Packet> dg(byte[] payload) => p => (family == 4 ? p.IPv4(id: 0, fragOff: 0x4000) : p.IPv6()).Udp(50000, 443).Payload(payload);
        var fa = Sfc(StackA, dg(pa));
        var fb = Sfc(StackB, dg(pb));
        var ipLength = family == 4 ? 20 : 40;
        ushort UdpChecksum(byte[] f, int labels) => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + 4 * labels + ipLength + 6));
        Assert.AreEqual(UdpChecksum(fa, StackA.Length), UdpChecksum(fb, StackB.Length), "the construction keeps the UDP checksum");
        EachKeepsItsOwn(dg(pa), dg(pb), $"QUIC-like, IPv{family}");
    }

    /// <summary>TCP segments with the same ports, seq, ack and length whose payload differs after byte 4.</summary>
    [TestMethod]
    public void TcpSegmentsDifferingAfterTheFourthPayloadByte()
    {
        var (pa, pb) = WordSwapped(48);
        EachKeepsItsOwn(p => p.IPv6().Tcp(40000, 80, seq: 5, ack: 6).Payload(pa), p => p.IPv6().Tcp(40000, 80, seq: 5, ack: 6).Payload(pb),
            "retransmission-like TCP");
    }

    /// <summary>
    /// A NAT VNF maps packet b onto the key fields of packet a, which the VNF dropped (a's entry is
    /// still cached): b must not leave with a's stack. The payloads differ (word-swapped, so even the
    /// checksum matches); the digest in the key tells them apart and b misses.
    /// </summary>
    [TestMethod]
    public void NatOntoTheKeyOfADroppedPacketMisses()
    {
        var (pa, pb) = WordSwapped(64);
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        proxy.Rx(Sfc(StackA, p => p.IPv4(id: 0).Udp(50000, 443).Payload(pa))); // dropped by the VNF
        var rb = proxy.Rx(Sfc(StackB, p => p.IPv4(src: "198.18.7.7", id: 0).Udp(50001, 443).Payload(pb)));
        Assert.AreEqual(ProxyTestRuns.XdpPass, rb.Verdict);
        // the VNF rewrites b's source address and port to a's, checksums fixed
        var natted = Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac).IPv4(id: 0, ttl: 63).Udp(50000, 443).Payload(pb).Build();
        var tx = proxy.Tx(natted);
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict, "a miss (drop policy), not a's stack");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.TxMissDrop), XdpRxFixtureTests.Format(proxy.Moved()));
    }

    /// <summary>Ethernet padding behind a short IP packet at XDP is not part of the key: the VNF's
    /// packet at egress has none, and must still find its stack.</summary>
    [TestMethod]
    public void PaddingBehindAShortPacketIsNotKeyed()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var frame = Stacks.Push(Packet.Eth(), StackA).IPv4(id: 0).Udp(4500, 4500).Payload([0xFF]).Build();
        var padded = frame.Concat(Enumerable.Repeat((byte)0xA5, 60 - frame.Length)).ToArray();
        var rx = proxy.Rx(padded);
        var ip = KernelVnf.L2Length(rx.Frame);
        var unpadded = rx.Frame[..(ip + 29)]; // IPv4 20 + UDP 8 + 1 byte
        var vnf = KernelVnf.Forward(unpadded);
        CollectionAssert.AreEqual(Restored(StackA, vnf), proxy.Tx(vnf).Frame);
    }

    /// <summary>Two payloads of <paramref name="length"/> bytes: the same first 4 bytes (0x40 0x00 0x00 0x01,
    /// a QUIC short header's), b = a with two 16-bit words swapped, so their ones' complement sums match.</summary>
    internal static (byte[] A, byte[] B) WordSwapped(int length)
    {
        var a = new byte[length];
        new Random(length).NextBytes(a);
        a[0] = 0x40;
        a[1] = 0;
        a[2] = 0;
        a[3] = 1;
        a[8] = 0x11;
        a[9] = 0x22;
        a[20] = 0x33;
        a[21] = 0x44;
        var b = (byte[])a.Clone();
        (b[8], b[9], b[20], b[21]) = (a[20], a[21], a[8], a[9]);
        return (a, b);
    }
}
