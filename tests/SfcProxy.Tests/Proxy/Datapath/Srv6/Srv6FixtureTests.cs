using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy.Options;

namespace SfcProxy.Tests.Proxy.Datapath.Srv6;

/// <summary>
/// SRv6 End.AD per packet (RFC 8754, RFC 8986, draft-ietf-spring-sr-service-programming 6.4) through the real
/// programs with BPF_PROG_TEST_RUN: xdp_rx pops the outer IPv6 header, the SRH and the extension headers around it
/// to a proxy SID, every malformed or foreign packet to its own counter; tc_tx puts back exactly that packet's
/// headers with Segments Left - 1, the next segment as destination, hop limit - 1 and the payload length of what the
/// VNF emitted. Every expected frame is built from the chain's description, byte for byte.
/// Cases run in a loop on one loaded proxy per key mode (loading is the slow part), each named in its failure.
/// </summary>
[TestClass]
public sealed class Srv6FixtureTests
{
    private static readonly byte[] SenderMac = [0x02, 0x5F, 0x5F, 0, 0, 9];

    private static readonly Inner InnerEthV4 = new("ethernet-ipv4",
        (p, ttl) => Inner.V4Udp.On(p.InnerEth(Packet.DefaultDst, [0x02, 0xEE, 0, 0, 0, 0x01]), ttl));
    private static readonly Inner[] Inners = [Inner.V4Udp, Inner.V6Tcp, InnerEthV4];

    private static IEnumerable<(string Name, L2 L2, Srv6Chain Chain, Inner Inner)> PoppedCases()
    {
        foreach (var chain in Srv6Chain.Popped)
            foreach (var inner in Inners)
                yield return ($"{chain.Name}-{inner.Name}", L2.Plain, chain, inner);
        yield return ("vlan-3-hmac-ipv6", L2.Dot1Q, Srv6Chain.Popped[6], Inner.V6Tcp);
        yield return ("qinq-2-ethernet", L2.QinQ, Srv6Chain.Popped[1], InnerEthV4);
        yield return ("qinq-16-hmac-ipv4", L2.QinQ, Srv6Chain.Popped[7], Inner.V4Udp);
    }

    private static Dictionary<Counter, ulong> Delta(IReadOnlyDictionary<Counter, ulong> before, IReadOnlyDictionary<Counter, ulong> after) =>
        after.Where(kv => kv.Value != before.GetValueOrDefault(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key));

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void PopsEveryShapeForTheVnf(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        foreach (var (name, l2, chain, inner) in PoppedCases())
        {
            var before = proxy.Counters();
            var frame = inner.On(chain.On(l2.Eth()), 64).Build();
            var rx = proxy.Rx(frame);
            var moved = Delta(before, proxy.Counters());
            Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, $"{name}: verdict; moved {XdpRxFixtureTests.Format(moved)}");
            // IP inside: the outer L2 header stays with the inner ethertype. Ethernet inside: the VNF gets that frame.
            var expected = inner == InnerEthV4 ? inner.On(Packet.Eth(), 64).Build()[14..] : inner.On(l2.Eth(), 64).Build();
            CollectionAssert.AreEqual(expected, rx.Frame, $"{name}: the VNF's frame");
            Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.RxPopped), $"{name}: {XdpRxFixtureTests.Format(moved)}");
            Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, "Rx"), $"{name}: one rx outcome");
            Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.Srv6Popped), $"{name}: srv6_popped");
            // tc_tx takes the entry back out, so the next case starts with an empty cache
            var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
            Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, $"{name}: tc_tx verdict");
            Assert.AreEqual(0, proxy.CacheEntries, $"{name}: the restore gives the entry back");
        }
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void RestoresEachPacketsOwnHeadersWithTheNextSegment(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        foreach (var (name, l2, chain, inner) in PoppedCases())
        {
            var before = proxy.Counters();
            var rx = proxy.Rx(inner.On(chain.On(l2.Eth(Packet.DefaultDst, SenderMac), 40), 64).Build());
            var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
            var moved = Delta(before, proxy.Counters());
            var expected = inner == InnerEthV4
                // The VNF emitted an Ethernet frame: a new outer Ethernet back to the sender, from the egress MAC.
                ? Inner.V4Udp.On(chain.After(Packet.Eth(SenderMac, KernelVnf.EgressMac), 39)
                    .InnerEth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 63).Build()
                : inner.On(chain.After(l2.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 39), 63).Build();
            Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, $"{name}: verdict; moved {XdpRxFixtureTests.Format(moved)}");
            CollectionAssert.AreEqual(expected, tx.Frame, $"{name}: restored frame");
            Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxRestored), $"{name}: {XdpRxFixtureTests.Format(moved)}");
            Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.Srv6Restored), $"{name}: srv6_restored");
            Assert.AreEqual(0, proxy.CacheEntries, $"{name}: cache empty");
        }
    }

    private sealed record BadCase(string Name, byte[] Frame, Counter Outcome, bool Passes = false);

    private static IEnumerable<BadCase> BadCases()
    {
        var eth = L2.Plain.Eth();
        string[] two = [Srv6Chain.Segment(0), Srv6Sids.Proxy];
        Packet To(string dst) => eth.IPv6(src: Srv6Sids.Source, dst: dst, hopLimit: 64);
        BadCase Bad(string name, Packet p, Counter outcome, bool passes = false, Inner? inner = null) =>
            new(name, (inner ?? Inner.V4Udp).On(p, 64).Build(), outcome, passes);

        yield return Bad("srh-to-another-address", To("2001:2:ff::999").Srh(1, two), Counter.RxSrv6NotSid, passes: true);
        yield return Bad("plain-ipv6-to-another-address", eth, Counter.RxNotSfc, passes: true, inner: Inner.V6Udp);
        yield return new("to-the-sid-without-srh", To(Srv6Sids.Proxy).Udp().Payload(8).Build(), Counter.RxSrv6NoSrh, true);
        yield return Bad("segments-left-0", To(Srv6Sids.Proxy).Srh(0, two), Counter.RxSrv6SlZero);
        yield return Bad("routing-type-3", To(Srv6Sids.Proxy).Routing(3, 1, two), Counter.RxSrv6NotSrh);
        yield return Bad("two-srhs", To(Srv6Sids.Proxy).Srh(1, two).Srh(1, two), Counter.RxSrv6NotSrh);
        yield return Bad("last-entry-past-srh", To(Srv6Sids.Proxy).Srh(1, two, lastEntry: 2), Counter.RxSrv6BadSrh);
        yield return Bad("segments-left-past-last-entry", To(Srv6Sids.Proxy).Srh(3, two), Counter.RxSrv6BadSrh);
        yield return new("srh-past-the-packet", To(Srv6Sids.Proxy).Srh(1, two, hdrExtLen: 40).Payload(16).Build(), Counter.RxSrv6BadLength);
        yield return Bad("longer-than-the-cache", To(Srv6Sids.Proxy).Srh(15,
            [.. Enumerable.Range(0, 15).Select(Srv6Chain.Segment), Srv6Sids.Proxy], tlvs: [1, 86, .. new byte[86]]), Counter.RxSrv6TooLong);
        yield return Bad("tlv-past-the-srh", To(Srv6Sids.Proxy).Srh(1, two, tlvs: [5, 20, 0, 0, 0, 0, 0, 0]), Counter.RxSrv6BadTlv);
        yield return Bad("tlv-head-past-the-srh", To(Srv6Sids.Proxy).Srh(1, two, tlvs: [0, 0, 0, 0, 0, 0, 0, 7]), Counter.RxSrv6BadTlv);
        yield return Bad("ipv6-to-an-ipv4-only-sid", To(Srv6Sids.V4Only).Srh(1, [Srv6Chain.Segment(0), Srv6Sids.V4Only]),
            Counter.RxSrv6BadInner, inner: Inner.V6Tcp);
        yield return new("udp-behind-the-srh", To(Srv6Sids.Proxy).Srh(1, two).Udp().Payload(8).Build(), Counter.RxSrv6BadInner);
        yield return new("fragment-before-the-inner-packet", To(Srv6Sids.Proxy).Srh(1, two).Fragment6(0, true, 7).IPv4().Udp().Build(),
            Counter.RxSrv6BadInner);
        yield return new("inner-ethernet-carries-arp", To(Srv6Sids.Proxy).Srh(1, two).InnerEth().Payload(28).Build(), Counter.RxNotIp);
        yield return new("truncated-inner-ipv4", To(Srv6Sids.Proxy).Srh(1, two, tlvs: Srv6Chain.Padding).Ip([0x45, 0, 0, 20]).Build(),
            Counter.RxTruncated);
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void EveryBadCaseHasItsOwnCounter(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        foreach (var c in BadCases())
        {
            var before = proxy.Counters();
            var rx = proxy.Rx(c.Frame);
            var moved = Delta(before, proxy.Counters());
            Assert.AreEqual(c.Passes ? ProxyTestRuns.XdpPass : ProxyTestRuns.XdpDrop, rx.Verdict, $"{c.Name}: verdict; moved {XdpRxFixtureTests.Format(moved)}");
            if (c.Passes)
                CollectionAssert.AreEqual(c.Frame, rx.Frame, $"{c.Name}: passed untouched");
            Assert.AreEqual(1ul, moved.GetValueOrDefault(c.Outcome), $"{c.Name}: {c.Outcome}; moved {XdpRxFixtureTests.Format(moved)}");
            Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, "Rx"), $"{c.Name}: one rx outcome; moved {XdpRxFixtureTests.Format(moved)}");
            Assert.AreEqual(0, proxy.CacheEntries, $"{c.Name}: nothing cached");
        }
    }

    /// <summary>RFC 8754 4.3.1.1 S13-S17 at restore: a hop limit of 0 or 1 is not forwarded, 2 leaves with 1.</summary>
    [TestMethod]
    [DataRow(KeyMode.Metadata, (byte)0, Counter.TxTtlExpired)]
    [DataRow(KeyMode.HeaderHash, (byte)1, Counter.TxTtlExpired)]
    [DataRow(KeyMode.Metadata, (byte)2, Counter.TxRestored)]
    public void HopLimitIsHandledAsTheEndBehaviourDoes(KeyMode mode, byte hopLimit, Counter outcome)
    {
        using var proxy = new ProxyUnderTest(mode);
        var chain = Srv6Chain.Popped[1];
        var rx = proxy.Rx(Inner.V4Udp.On(chain.On(Packet.Eth(), hopLimit), 64).Build());
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, "the VNF still sees the packet; the proxy decides at restore");
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(outcome), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, "Tx"), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(0, proxy.CacheEntries);
        if (outcome == Counter.TxRestored)
            CollectionAssert.AreEqual(Inner.V4Udp.On(chain.After(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 1), 63).Build(), tx.Frame);
        else
            Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict);
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void MplsNshAndSrv6MixedOnOneInstance(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var stack = Stacks.Make(3);
        var chain = Srv6Chain.Popped[6];
        var a = proxy.Rx(Stacks.Push(Packet.Eth(), stack).IPv4(id: 1).Udp().Payload(16).Build());
        var b = proxy.Rx(NshFixtureTests.Header.Md1.On(Packet.Eth(), 40, 17).IPv4(id: 2).Udp().Payload(16).Build());
        var c = proxy.Rx(chain.On(Packet.Eth(), 50).IPv4(id: 3).Udp().Payload(16).Build());
        var d = proxy.Rx(chain.On(Packet.Eth(), 50).IPv6(flowLabel: 4).Udp().Payload(16).Build());
        Assert.AreEqual(4, proxy.CacheEntries);
        var vnfEth = Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac);
        // Out of the VNF in another order: each finds its own headers.
        CollectionAssert.AreEqual(chain.After(vnfEth, 49).IPv6(flowLabel: 4, hopLimit: 63).Udp().Payload(16).Build(),
            proxy.Tx(KernelVnf.Forward(d.Frame), d).Frame, "srv6, inner ipv6");
        CollectionAssert.AreEqual(NshFixtureTests.Header.Md1.On(vnfEth, 39, 16).IPv4(id: 2, ttl: 63).Udp().Payload(16).Build(),
            proxy.Tx(KernelVnf.Forward(b.Frame), b).Frame, "nsh");
        CollectionAssert.AreEqual(chain.After(vnfEth, 49).IPv4(id: 3, ttl: 63).Udp().Payload(16).Build(),
            proxy.Tx(KernelVnf.Forward(c.Frame), c).Frame, "srv6, inner ipv4");
        CollectionAssert.AreEqual(Stacks.Push(vnfEth, Stacks.AfterVnf(stack, 1)).IPv4(id: 1, ttl: 63).Udp().Payload(16).Build(),
            proxy.Tx(KernelVnf.Forward(a.Frame), a).Frame, "mpls");
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    [TestMethod]
    public void Srv6NotAcceptedPassesUntouched()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, accepted: (1u << (int)Encapsulation.Mpls) | (1u << (int)Encapsulation.Nsh));
        var frame = Inner.V4Udp.On(Srv6Chain.Popped[1].On(Packet.Eth()), 64).Build();
        var rx = proxy.Rx(frame);
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);
        CollectionAssert.AreEqual(frame, rx.Frame);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxNotSfc));
    }

    /// <summary>Miss policy static with Srv6:Static: the configured IPv6 header and SRH (segments reversed into the
    /// Segment List, DA the first, SL = Last Entry = n - 1), the SRH's next header and the payload length per packet.</summary>
    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void StaticMissPushesTheConfiguredSrh(KeyMode mode)
    {
        string[] segments = ["2001:2:a::1", "2001:2:a::2", "2001:2:a::3"];
        var srv6 = Srv6Sids.Default;
        srv6.Static = new Srv6StaticOptions { Source = "2001:2:1::9", Segments = segments, HopLimit = 33 };
        using var proxy = new ProxyUnderTest(mode, miss: MissPolicy.Static, srv6: srv6);
        var vnfEth = Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac);
        foreach (var inner in new[] { Inner.V4Udp, Inner.V6Tcp })
        {
            var tx = proxy.Tx(inner.On(vnfEth, 63).Build());
            var expected = inner.On(vnfEth.IPv6(src: "2001:2:1::9", dst: segments[0], hopLimit: 33).Srh(2, [.. segments.Reverse()]), 63).Build();
            Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, inner.Name);
            CollectionAssert.AreEqual(expected, tx.Frame, inner.Name);
        }
        Assert.AreEqual(2ul, proxy.Moved().GetValueOrDefault(Counter.TxMissStatic));
    }
}
