using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Review;

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
    /// Steps: packet P1 (stack Mine) is popped and its entry is 10 s old (MaxAge 1 s). An identical copy
    /// P2 (same stack) arrives and joins, renewing the pop time, and the sweep runs. Before the sweep
    /// was a program, it read the old pop time, P2 joined in the one-syscall window between its
    /// BPF_MAP_LOOKUP_BATCH and BPF_MAP_DELETE_BATCH, and it deleted by key, blind to the renewal;
    /// P3, the same inner packet with another stack (Other), was then inserted instead of refused,
    /// and P2 left the VNF with P3's stack. Now the sweep (hash_age) takes an entry out only by a
    /// compare-and-swap of an unchanged reference count, which a join moves after renewing the pop
    /// time: whichever order the two take, the sweep never deletes an entry a newer copy is under.
    /// Expected: P2 leaves with Mine; P3 is refused as rx_key_conflict.
    /// </summary>
    [TestMethod]
    public void AgingSweepNeverDeletesAnEntryAJoinRenewed()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        var ip = Inner();
        var p1 = proxy.Rx(ReviewFixtures.Sfc(ip, Mine));
        Assert.AreEqual(ProxyTestRuns.XdpPass, p1.Verdict);
        var key = proxy.Cache.Keys<ulong>().Single();
        Assert.IsTrue(proxy.Cache.TryLookup(key, out SfcCacheEntry e));
        e.IngressNs = SfcProxy.Bpf.MonotonicClock.NowNs() - 10_000_000_000UL; // P1 popped 10 s ago (the VNF lost it)
        proxy.Cache.Update(key, e);

        var p2 = proxy.Rx(ReviewFixtures.Sfc(ip, Mine));
        Assert.AreEqual(ProxyTestRuns.XdpPass, p2.Verdict, "P2 joined");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxDuplicateKey), ReviewFixtures.Moved(proxy));
        var swept = new CacheAging(proxy.Objects).Sweep(TimeSpan.FromSeconds(1));
        Assert.AreEqual(0, swept.AgedOut, "the entry a copy renewed is young");

        var p3 = proxy.Rx(ReviewFixtures.Sfc(ip, Other));
        Assert.AreEqual(ProxyTestRuns.XdpDrop, p3.Verdict, $"P3 must be refused while P2 is in the VNF: {ReviewFixtures.Moved(proxy)}");
        var tx2 = proxy.Tx(KernelVnf.Forward(p2.Frame));
        CollectionAssert.AreEqual(ReviewFixtures.Restored(ReviewFixtures.Hop(ip), Mine), tx2.Frame, "P2 keeps its own stack");
    }

    /// <summary>
    /// The other half of the old window: tc_tx released P1's entry and P3 (same inner packet, other
    /// stack) was inserted under the same key after the sweep had read P1's old entry; the old sweep
    /// deleted P3's young entry by key. Now an entry popped after the cutoff is never taken.
    /// </summary>
    [TestMethod]
    public void AgingSweepNeverDeletesANewerEntryUnderTheSameKey()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        var ip = Inner();
        var cutoff = SfcProxy.Bpf.MonotonicClock.NowNs();
        var p3 = proxy.Rx(ReviewFixtures.Sfc(ip, Other));
        Assert.AreEqual(ProxyTestRuns.XdpPass, p3.Verdict);
        var swept = new CacheAging(proxy.Objects).SweepOlderThan(cutoff);
        Assert.AreEqual(0, swept.AgedOut);
        CollectionAssert.AreEqual(ReviewFixtures.Restored(ReviewFixtures.Hop(ip), Other), proxy.Tx(KernelVnf.Forward(p3.Frame)).Frame);
    }
}
