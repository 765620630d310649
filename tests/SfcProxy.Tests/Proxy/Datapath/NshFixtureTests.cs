using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// NSH (RFC 8300) through the real programs with BPF_PROG_TEST_RUN: pop and cache at xdp_rx, every
/// malformed header to its own counter, and restore at tc_tx byte for byte except Service Index
/// and TTL, each one less.
/// </summary>
[TestClass]
public sealed class NshFixtureTests
{
    /// <summary>An NSH header, parameterised by TTL and SI so the restored one can be stated.</summary>
    internal sealed record Header(string Name, Func<Packet, byte, byte, Packet> On)
    {
        public static readonly byte[] Context = [.. Enumerable.Range(1, 16).Select(i => (byte)(i * 11))];

        public static readonly Header Md1 = new("md1", (p, ttl, si) => p.Nsh(spi: 0x123456, si: si, ttl: ttl, context: Context));
        public static readonly Header Md2NoTlv = new("md2-no-tlv", (p, ttl, si) => p.Nsh(spi: 7, si: si, ttl: ttl, mdType: 2));
        public static readonly Header Md2OneTlv = new("md2-one-tlv", (p, ttl, si) => p.Nsh(spi: 8, si: si, ttl: ttl, mdType: 2,
            tlvs: [new NshTlv(0x0102, 0x80, [1, 2, 3, 4, 5])]));
        public static readonly Header Md2ManyTlvs = new("md2-many-tlvs", (p, ttl, si) => p.Nsh(spi: 9, si: si, ttl: ttl, mdType: 2,
            tlvs: [.. Enumerable.Range(0, 10).Select(i => new NshTlv((ushort)(0x100 + i), (byte)i, [.. Enumerable.Repeat((byte)(0xA0 + i), i + 1)]))]));
        /// <summary>Length 63: the largest NSH header there is (252 bytes).</summary>
        public static readonly Header Md2Max = new("md2-max", (p, ttl, si) => p.Nsh(spi: 0xFFFFFF, si: si, ttl: ttl, mdType: 2,
            tlvs: [new NshTlv(0xFFF6, 1, [.. Enumerable.Range(0, 120).Select(i => (byte)i)]),
                   new NshTlv(0xFFF7, 2, [.. Enumerable.Range(0, 116).Select(i => (byte)~i)])]));

        public static readonly Header[] All = [Md1, Md2NoTlv, Md2OneTlv, Md2ManyTlvs, Md2Max];
    }

    private static readonly Inner InnerEthV4 = new("ethernet-ipv4",
        (p, ttl) => Inner.V4Udp.On(p.InnerEth(Packet.DefaultDst, [0x02, 0xEE, 0, 0, 0, 0x01]), ttl));
    private static readonly Inner[] Inners = [Inner.V4Udp, Inner.V6Tcp, Inner.V4Icmp, InnerEthV4];

    private static Packet Outer(L2? l2 = null) => (l2 ?? L2.Plain).Eth();

    /// <summary>The Ethernet frame inside <see cref="InnerEthV4"/>, as the VNF receives it.</summary>
    private static byte[] InnerFrame() => InnerEthV4.On(Packet.Eth(), 64).Build()[14..];

    // ---- xdp_rx ----

    internal sealed record RxCase(string Name, byte[] Frame, uint Verdict, byte[]? Expected, Counter Outcome);

    private static readonly Dictionary<string, RxCase> RxCases = BuildRx().ToDictionary(c => c.Name);

    public static IEnumerable<object[]> RxCaseNames => RxCases.Keys.Select(k => new object[] { k });

    private static IEnumerable<RxCase> BuildRx()
    {
        const uint drop = ProxyTestRuns.XdpDrop;
        foreach (var h in Header.All)
            foreach (var inner in Inners)
                yield return Popped($"{h.Name}-{inner.Name}", L2.Plain, h, inner);
        yield return Popped("vlan-md1-ipv6-tcp", L2.Dot1Q, Header.Md1, Inner.V6Tcp);
        yield return Popped("qinq-md2-ethernet", L2.QinQ, Header.Md2OneTlv, InnerEthV4);

        RxCase Bad(string name, Packet nsh, Counter outcome, Inner? inner = null) =>
            new(name, (inner ?? Inner.V4Udp).On(nsh, 64).Build(), drop, null, outcome);
        yield return Bad("version-1", Outer().Nsh(version: 1), Counter.RxNshBadVersion);
        yield return Bad("md-type-0", Outer().Nsh(mdType: 0, length: 6, context: new byte[16]), Counter.RxNshBadMdType);
        yield return Bad("md-type-f", Outer().Nsh(mdType: 0xF, length: 6, context: new byte[16]), Counter.RxNshBadMdType);
        yield return Bad("md-type-3", Outer().Nsh(mdType: 3, length: 2), Counter.RxNshBadMdType);
        yield return Bad("md1-length-5", Outer().Nsh(length: 5), Counter.RxNshBadLength);
        yield return Bad("md1-length-7", Outer().Nsh(length: 7), Counter.RxNshBadLength);
        yield return Bad("md2-length-1", Outer().Nsh(mdType: 2, length: 1), Counter.RxNshBadLength);
        // Length 63 announced, 28 bytes of header and packet after it.
        yield return new("md2-length-past-packet", Outer().Nsh(mdType: 2, length: 63).Payload(20).Build(), drop, null, Counter.RxNshBadLength);
        yield return Bad("next-proto-mpls", Outer().Nsh(nextProtocol: 5), Counter.RxNshBadNextProto);
        yield return Bad("next-proto-experimental", Outer().Nsh(nextProtocol: 0xFE), Counter.RxNshBadNextProto);
        // The TLV announces 8 bytes of value, the header (Length 3 = 12 bytes) ends after its 4-byte head.
        yield return Bad("md2-tlv-past-length", Outer().Nsh(mdType: 2, length: 3, tlvs: [new NshTlv(1, 1, new byte[8])]), Counter.RxNshBadTlv);
        yield return Bad("next-proto-ipv4-carries-ipv6", Outer().Nsh(nextProtocol: 1), Counter.RxNotIp, Inner.V6Udp);
        yield return new("truncated-inner-ipv4", Outer().Nsh(nextProtocol: 1).Payload([0x45, 0, 0, 20]).Build(), drop, null, Counter.RxTruncated);
        yield return new("inner-ethernet-carries-arp", Outer().Nsh().InnerEth().Payload(28).Build(), drop, null, Counter.RxNotIp);
    }

    private static RxCase Popped(string name, L2 l2, Header h, Inner inner)
    {
        var frame = inner.On(h.On(Outer(l2), 63, 200), 64).Build();
        // IP inside: the outer L2 stays with the inner ethertype. Ethernet inside: the VNF gets that frame.
        var expected = inner == InnerEthV4 ? InnerFrame() : inner.On(l2.Eth(), 64).Build();
        return new RxCase(name, frame, ProxyTestRuns.XdpPass, expected, Counter.RxPopped);
    }

    [TestMethod]
    [DynamicData(nameof(RxCaseNames))]
    public void RxMetadataMode(string name) => RunRx(RxCases[name], KeyMode.Metadata);

    [TestMethod]
    [DynamicData(nameof(RxCaseNames))]
    public void RxHeaderHashMode(string name) => RunRx(RxCases[name], KeyMode.HeaderHash);

    private static void RunRx(RxCase c, KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var r = proxy.Rx(c.Frame);
        Assert.AreEqual(c.Verdict, r.Verdict, $"{c.Name}: verdict");
        if (c.Expected is not null)
            CollectionAssert.AreEqual(c.Expected, r.Frame, $"{c.Name}: the VNF's frame");
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(c.Outcome), $"{c.Name}: {c.Outcome}; moved: {XdpRxFixtureTests.Format(moved)}");
        Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, "Rx"), $"{c.Name}: one rx outcome; moved: {XdpRxFixtureTests.Format(moved)}");
        var popped = c.Outcome == Counter.RxPopped;
        Assert.AreEqual(popped ? 1ul : 0ul, moved.GetValueOrDefault(Counter.NshPopped), $"{c.Name}: nsh_popped");
        Assert.AreEqual(popped ? 1 : 0, proxy.CacheEntries, $"{c.Name}: cache entries");
    }

    // ---- round trips ----

    public static IEnumerable<object[]> RoundTrips()
    {
        foreach (var mode in new[] { KeyMode.Metadata, KeyMode.HeaderHash })
            foreach (var h in Header.All)
                foreach (var inner in Inners)
                    yield return [mode, h.Name, inner.Name];
    }

    [TestMethod]
    [DynamicData(nameof(RoundTrips))]
    public void RestoresNshWithServiceIndexAndTtlDecremented(KeyMode mode, string headerName, string innerName)
    {
        var h = Header.All.Single(x => x.Name == headerName);
        var inner = Inners.Single(x => x.Name == innerName);
        using var proxy = new ProxyUnderTest(mode);
        var sender = Packet.Eth(Packet.DefaultDst, [0x02, 0x5F, 0x5F, 0, 0, 9]);

        var rx = proxy.Rx(inner.On(h.On(sender, 40, 17), 64).Build());
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);

        var expected = inner == InnerEthV4
            // The VNF emitted an Ethernet frame: new outer Ethernet back to the sender, from the egress
            // MAC, then NSH, then the VNF's frame.
            ? Inner.V4Udp.On(h.On(Packet.Eth([0x02, 0x5F, 0x5F, 0, 0, 9], KernelVnf.EgressMac), 39, 16)
                .InnerEth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 63).Build()
            : inner.On(h.On(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 39, 16), 63).Build();
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, $"tc_tx verdict; moved {XdpRxFixtureTests.Format(proxy.Moved())}");
        CollectionAssert.AreEqual(expected, tx.Frame, "restored frame: NSH byte for byte but SI and TTL");
        Assert.AreEqual(0, proxy.CacheEntries);
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.NshRestored), XdpRxFixtureTests.Format(moved));
    }

    [TestMethod]
    public void ConfiguredNextHopMacFramesRestoredEthernetPayloads()
    {
        byte[] nextHop = [0x02, 0x77, 0x77, 0x77, 0x77, 0x77];
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, nshNextHopMac: nextHop);
        var rx = proxy.Rx(InnerEthV4.On(Header.Md1.On(Packet.Eth(), 40, 17), 64).Build());
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        CollectionAssert.AreEqual(nextHop, tx.Frame[..6], "outer destination: Nsh:NextHopMac");
        CollectionAssert.AreEqual(KernelVnf.EgressMac, tx.Frame[6..12], "outer source: the egress MAC");
    }

    /// <summary>RFC 8300 2.2: "Decrementing by 1 from an incoming value of 0 shall result in a TTL
    /// value of 63"; the packet goes on (it was dropped before).</summary>
    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void IncomingTtlZeroLeavesWithSixtyThree(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var rx = proxy.Rx(Inner.V4Udp.On(Outer().Nsh(ttl: 0, si: 50), 64).Build());
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        CollectionAssert.AreEqual(Inner.V4Udp.On(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac).Nsh(ttl: 63, si: 49), 63).Build(), tx.Frame);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.TxRestored));
    }

    [TestMethod]
    [DataRow((byte)1, (byte)50, Counter.TxTtlExpired)]
    [DataRow((byte)30, (byte)1, Counter.TxSiExhausted)]
    [DataRow((byte)30, (byte)0, Counter.TxSiExhausted)]
    [DataRow((byte)1, (byte)1, Counter.TxTtlExpired)]
    public void ExpiringTtlOrExhaustedServiceIndexIsDropped(byte ttl, byte si, Counter outcome)
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata);
        var rx = proxy.Rx(Inner.V4Udp.On(Header.Md2OneTlv.On(Packet.Eth(), ttl, si), 64).Build());
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, "the VNF still sees the packet; the proxy decides at restore");
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict);
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(outcome), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, "Tx"), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(0, proxy.CacheEntries, "the dropped packet releases its entry");
    }

    [TestMethod]
    public void OamBitIsCarriedAndCounted()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var frame = Inner.V4Udp.On(Outer().Nsh(ttl: 9, si: 9, oam: true), 64).Build();
        var rx = proxy.Rx(frame);
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        CollectionAssert.AreEqual(Inner.V4Udp.On(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac).Nsh(ttl: 8, si: 8, oam: true), 63).Build(), tx.Frame);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.NshOam));
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void MplsAndNshMixedOnOneInstance(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var stack = Stacks.Make(3);
        var mpls = Stacks.Push(Packet.Eth(), stack).IPv4(id: 1).Udp().Payload(16).Build();
        var nsh = Header.Md1.On(Packet.Eth(), 40, 17).IPv4(id: 2).Udp().Payload(16).Build();
        var a = proxy.Rx(mpls);
        var b = proxy.Rx(nsh);
        Assert.AreEqual(2, proxy.CacheEntries);
        // Out of the VNF in the other order: each finds its own headers.
        var tb = proxy.Tx(KernelVnf.Forward(b.Frame), b);
        var ta = proxy.Tx(KernelVnf.Forward(a.Frame), a);
        var vnfEth = Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac);
        CollectionAssert.AreEqual(Header.Md1.On(vnfEth, 39, 16).IPv4(id: 2, ttl: 63).Udp().Payload(16).Build(), tb.Frame);
        CollectionAssert.AreEqual(Stacks.Push(vnfEth, Stacks.AfterVnf(stack, 1)).IPv4(id: 1, ttl: 63).Udp().Payload(16).Build(), ta.Frame);
    }

    [TestMethod]
    [DataRow(1u << (int)Encapsulation.Mpls, "nsh")]
    [DataRow(1u << (int)Encapsulation.Nsh, "mpls")]
    public void EncapsulationNotAcceptedPassesUntouched(uint accepted, string other)
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, accepted: accepted);
        var frame = other == "nsh"
            ? Header.Md1.On(Packet.Eth(), 40, 17).IPv4().Udp().Build()
            : Stacks.Push(Packet.Eth(), Stacks.Make(2)).IPv4().Udp().Build();
        var rx = proxy.Rx(frame);
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);
        CollectionAssert.AreEqual(frame, rx.Frame, $"{other} is not this instance's business");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxNotSfc));
    }
}
