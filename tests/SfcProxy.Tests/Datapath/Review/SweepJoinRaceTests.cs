using SfcProxy.Datapath;
using SfcProxy.Lab;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Datapath.Review;

/// <summary>
/// Header-hash aging against a join. README ("The key modes", header-hash, same key same headers):
/// a duplicate "joins the entry ... and renews its pop time", and rx_cache.h: "The join renews the
/// entry's pop time, so aging never takes it while the newest copy is in the VNF". Contract: a packet
/// never leaves with another packet's headers; "with other headers while the first is still cached
/// ... the second is refused (rx_key_conflict)".
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SweepJoinRaceTests
{
    private static readonly LabelStackEntry[] Mine = [new(23001, 1, false, 40), new(23002, 0, true, 41)];
    private static readonly LabelStackEntry[] Other = [new(45001, 2, false, 50), new(45002, 0, true, 51)];

    private static byte[] Inner() => Packet.Eth().IPv4(id: 0x77, fragOff: 0x4000).Udp(41000, 53).Payload(40, seed: 5).Build()[14..];

    /// <summary>
    /// Steps: packet P1 (stack Mine) is popped and its entry is 10 s old (MaxAge 1 s). The sweep reads
    /// the batch, sees the old pop time; before its delete (CacheAging.AfterLookup, the one-syscall
    /// window the sweep has between BPF_MAP_LOOKUP_BATCH and BPF_MAP_DELETE_BATCH) an identical copy P2
    /// (same stack) arrives and joins, renewing the pop time. The sweep then deletes by key, blind to the
    /// renewal, so the entry of a copy popped a microsecond ago is gone. Then P3, the same inner packet
    /// with another stack (Other), arrives while P2 is still in the VNF: the key is free, so it is
    /// inserted instead of refused. P2 leaves the VNF and gets P3's stack.
    /// Expected: P2 leaves with Mine (or at worst misses, counted); P3 is refused as rx_key_conflict.
    /// Actual: P2 leaves with Other's labels.
    /// </summary>
    [TestMethod]
    public void AgingSweepDeletesAnEntryAJoinJustRenewed_FreshCopyLeavesWithAnotherPacketsStack()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        var ip = Inner();
        var p1 = proxy.Rx(ReviewFixtures.Sfc(ip, Mine));
        Assert.AreEqual(ProxyTestRuns.XdpPass, p1.Verdict);
        var key = proxy.Cache.Keys<SfcFlowKey>().Single();
        Assert.IsTrue(proxy.Cache.TryLookup(key, out SfcCacheEntry e));
        e.IngressNs = SfcProxy.Bpf.MonotonicClock.NowNs() - 10_000_000_000UL; // P1 popped 10 s ago (the VNF lost it)
        proxy.Cache.Update(key, e);

        RxRun p2 = default;
        var aging = new CacheAging(proxy.Cache) { AfterLookup = () => p2 = proxy.Rx(ReviewFixtures.Sfc(ip, Mine)) };
        aging.Sweep(TimeSpan.FromSeconds(1));
        Assert.AreEqual(ProxyTestRuns.XdpPass, p2.Verdict, "P2 joined");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxDuplicateKey), ReviewFixtures.Moved(proxy));

        var p3 = proxy.Rx(ReviewFixtures.Sfc(ip, Other));
        var tx2 = proxy.Tx(KernelVnf.Forward(p2.Frame));
        var wrong = ReviewFixtures.Restored(ReviewFixtures.Hop(ip), Other);
        CollectionAssert.AreNotEqual(wrong, tx2.Frame,
            $"P2 (popped just now with {Mine[0].Label}/{Mine[1].Label}) left with P3's stack {Other[1].Label}; P3's verdict was {p3.Verdict}: {ReviewFixtures.Moved(proxy)}");
        Assert.AreEqual(ProxyTestRuns.XdpDrop, p3.Verdict, $"P3 must be refused while P2 is in the VNF: {ReviewFixtures.Moved(proxy)}");
        CollectionAssert.AreEqual(ReviewFixtures.Restored(ReviewFixtures.Hop(ip), Mine), tx2.Frame, "P2 keeps its own stack");
    }
}
