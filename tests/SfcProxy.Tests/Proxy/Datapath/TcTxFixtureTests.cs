using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>tc_tx (and the cache between the programs) through BPF_PROG_TEST_RUN, case by case.</summary>
[TestClass]
public sealed class TcTxFixtureTests
{
    private static byte[] Sfc(LabelStackEntry[] stack, Inner? inner = null, byte ttl = 64) =>
        (inner ?? Inner.V4Udp).On(Stacks.Push(Packet.Eth(), stack), ttl).Build();

    private static byte[] Vnf(LabelStackEntry[] stack, Inner? inner = null) =>
        (inner ?? Inner.V4Udp).On(Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), stack), 63).Build();

    private static void AssertOutcome(ProxyUnderTest proxy, Counter outcome, string prefix = "Tx")
    {
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(outcome), $"{outcome}: {XdpRxFixtureTests.Format(moved)}");
        Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, prefix), $"one {prefix} outcome: {XdpRxFixtureTests.Format(moved)}");
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata, 2)]
    [DataRow(KeyMode.HeaderHash, 3)]
    public void ConsumedSegmentsFromConfigAreNotPushedBack(KeyMode mode, int consumed)
    {
        var stack = Stacks.Make(5);
        using var proxy = new ProxyUnderTest(mode, consumed: (uint)consumed);
        var rx = proxy.Rx(Sfc(stack));
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        CollectionAssert.AreEqual(Vnf(Stacks.AfterVnf(stack, consumed)), tx.Frame);
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void TopTtlOneExpiresAndIsDropped(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var rx = proxy.Rx(Sfc(Stacks.Make(3, topTtl: 1)));
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict, "RFC 3032: a label whose TTL would reach 0 is not sent");
        AssertOutcome(proxy, Counter.TxTtlExpired);
        Assert.AreEqual(0, proxy.CacheEntries, "an expired packet releases its entry");
    }

    [TestMethod]
    public void TopTtlTwoLeavesWithTtlOne()
    {
        var stack = Stacks.Make(2, topTtl: 2);
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var rx = proxy.Rx(Sfc(stack));
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        CollectionAssert.AreEqual(Vnf(Stacks.AfterVnf(stack, 1)), tx.Frame);
        Assert.AreEqual(1, LabelStackEntry.FromHostOrder(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(tx.Frame.AsSpan(14))).Ttl);
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void MissDropPolicyDropsPacketsWithoutCachedHeaders(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode, miss: MissPolicy.Drop);
        var tx = proxy.Tx(Inner.V4Tcp.On(Packet.Eth(), 63).Build());
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict);
        AssertOutcome(proxy, Counter.TxMissDrop);
    }

    [TestMethod]
    public void MissPassPolicySendsThePacketUnchanged()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Pass);
        var frame = Inner.V6Udp.On(Packet.Eth(), 63).Build();
        var tx = proxy.Tx(frame);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        CollectionAssert.AreEqual(frame, tx.Frame);
        AssertOutcome(proxy, Counter.TxMissPass);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(16)]
    public void MissStaticPolicyPushesTheConfiguredStack(int depth)
    {
        var fallback = Stacks.Make(depth, topTtl: 40);
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Static, staticStack: fallback);
        var tx = proxy.Tx(Inner.V4Tcp.On(L2.Dot1Q.Eth(), 63).Build());
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        CollectionAssert.AreEqual(Inner.V4Tcp.On(Stacks.Push(L2.Dot1Q.Eth(), fallback), 63).Build(), tx.Frame);
        AssertOutcome(proxy, Counter.TxMissStatic);
    }

    [TestMethod]
    public void MetadataModeWithoutMarkIsAMiss()
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop);
        var rx = proxy.Rx(Sfc(Stacks.Make(2)));
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), mark: 0);
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict, "the mark is the key: a packet that lost it cannot be matched");
        AssertOutcome(proxy, Counter.TxMissDrop);
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void GsoSkbWithCachedHeadersIsDroppedAndReleasesTheEntry(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var rx = proxy.Rx(Sfc(Stacks.Make(2), Inner.V4Tcp));
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx, gsoSize: 1400);
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict, "no MPLS GSO in the kernel: labels on a GSO skb are lost at segmentation");
        AssertOutcome(proxy, Counter.TxGso);
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    [TestMethod]
    public void NonIpFromTheVnfPassesUntouched()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        var arp = Packet.Eth(etherType: 0x0806).Payload(28).Build();
        var tx = proxy.Tx(arp);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, "ARP must keep working on the egress whatever the miss policy");
        CollectionAssert.AreEqual(arp, tx.Frame);
        AssertOutcome(proxy, Counter.TxNotIp);
    }

    [TestMethod]
    public void TruncatedIpFromTheVnfIsDropped()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Pass);
        // IHL says 60 bytes of header, the frame holds 28 after Ethernet. (The kernel's test run
        // refuses IPv4 frames shorter than a bare IPv4 header, so the cut is made through IHL.)
        var frame = Packet.Eth().IPv4(ihlWords: 15).Payload(8).Build();
        var tx = proxy.Tx(frame[..(14 + 28)]);
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict);
        AssertOutcome(proxy, Counter.TxMalformed);
    }

    /// <summary>A true retransmission: the same inner packet with the same headers joins the entry,
    /// and every copy leaves with those headers.</summary>
    [TestMethod]
    public void IdenticalPacketWithTheSameHeadersJoinsTheEntry()
    {
        var stack = Stacks.Make(3);
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var a = proxy.Rx(Sfc(stack));
        var b = proxy.Rx(Sfc(stack));
        CollectionAssert.AreEqual(a.Frame, b.Frame, "same inner packet: the same key");
        Assert.AreEqual(1, proxy.CacheEntries);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxDuplicateKey));

        var expected = Vnf(Stacks.AfterVnf(stack, 1));
        CollectionAssert.AreEqual(expected, proxy.Tx(KernelVnf.Forward(a.Frame)).Frame, "first copy");
        CollectionAssert.AreEqual(expected, proxy.Tx(KernelVnf.Forward(b.Frame)).Frame, "second copy");
        Assert.AreEqual(0, proxy.CacheEntries, "deleted when the last reference leaves");
        Assert.AreEqual(ProxyTestRuns.TcShot, proxy.Tx(KernelVnf.Forward(a.Frame)).Verdict, "a third copy is a miss");
    }

    /// <summary>The same inner packet with OTHER headers while the first is in the VNF: whichever copy
    /// left first would take the first headers, so the second is refused at ingress, counted
    /// RX_KEY_CONFLICT; the first keeps its own headers. (Before: joined, and left with the first
    /// packet's stack.)</summary>
    [TestMethod]
    public void SameKeyWithOtherHeadersIsRefusedNeverSwapped()
    {
        var first = Stacks.Make(3);
        var second = Stacks.Make(2, topTtl: 9);
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var a = proxy.Rx(Sfc(first));
        var b = proxy.Rx(Sfc(second));
        Assert.AreEqual(ProxyTestRuns.XdpDrop, b.Verdict, "refused");
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.RxKeyConflict), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.RxPopped), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1, proxy.CacheEntries);
        CollectionAssert.AreEqual(Vnf(Stacks.AfterVnf(first, 1)), proxy.Tx(KernelVnf.Forward(a.Frame)).Frame, "the first keeps its own stack");
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    [TestMethod]
    public void HeaderHashCannotFollowAVnfThatRewritesKeyFields()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        var rx = proxy.Rx(Sfc(Stacks.Make(2), Inner.V4Udp));
        // A NAT rewrites the source port: the key no longer matches (documented limitation).
        var natted = Inner.V4Udp.On(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 63).Build();
        natted[14 + 20 + 1] ^= 0x01;
        Assert.AreEqual(ProxyTestRuns.TcShot, proxy.Tx(natted).Verdict);
        AssertOutcome(proxy, Counter.TxMissDrop);
        Assert.AreEqual(1, proxy.CacheEntries, "the unmatched entry stays until aged out");
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void FullCacheRefusesAndDrops(KeyMode mode)
    {
        // Metadata mode: two slots per CPU ring, every packet popped on CPU 0 (one ring).
        using var proxy = new ProxyUnderTest(mode, cacheSize: mode == KeyMode.Metadata ? 2 * MetadataSlots.Rings : 2);
        CpuAffinity.On(0, () =>
        {
            for (ushort id = 1; id <= 2; id++)
                Assert.AreEqual(ProxyTestRuns.XdpPass, proxy.Rx(Stacks.Push(Packet.Eth(), Stacks.Make(1)).IPv4(id: id).Udp().Payload(8).Build()).Verdict);
            var third = proxy.Rx(Stacks.Push(Packet.Eth(), Stacks.Make(1)).IPv4(id: 3).Udp().Payload(8).Build());
            Assert.AreEqual(ProxyTestRuns.XdpDrop, third.Verdict, "refusal, not eviction: cached packets keep their headers");
        });
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxCacheFull));
        Assert.AreEqual(2, proxy.CacheEntries);
    }

    [TestMethod]
    public void ConfiguredVnfInterfaceRedirects()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        proxy.Objects.VnfPort.Update(0u, (uint)NetDevice.IfIndex("lo"));
        var rx = proxy.Rx(Sfc(Stacks.Make(2)));
        Assert.AreEqual(ProxyTestRuns.XdpRedirect, rx.Verdict, "popped packets go to the VNF's interface");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxPopped));
    }
}
