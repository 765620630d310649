using System.Collections.Concurrent;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// Issue 11, item 7: identical packets (a retransmission, a duplicated datagram) share one
/// header-hash entry with a reference count. Before, tc_tx read refs == 1 and deleted while xdp_rx
/// on another CPU joined the same entry, so the joining packet missed (432 of 200,000 pops); and a
/// joining packet inherited the first one's pop time, so aging could take the entry while it was in
/// the VNF.
/// </summary>
[TestClass]
[DoNotParallelize] // pins threads to CPUs
public sealed class JoinReleaseTests
{
    private static readonly LabelStackEntry[] Stack = Stacks.Make(2);

    private static byte[] Frame => Stacks.Push(Packet.Eth(), Stack).IPv6().Tcp(40000, 80, seq: 9, ack: 10).Payload(20).Build();

    /// <summary>
    /// CPU 0 pops the same packet over and over; CPU 1 restores each copy as it comes. Joins and
    /// releases race on every entry; no copy that was popped may miss, and nothing may be left
    /// behind. A pop may be refused, counted as rx_cache_full, when its twin's release stays between
    /// its compare-and-swap and its delete for longer than xdp_rx's insert tries (docs/sfc-proxy.md,
    /// "A full cache"): in a test run the releasing thread can be preempted there, which softirq
    /// never is. Such refusals are counted one for one and stay rare.
    /// </summary>
    [TestMethod]
    public void JoinsRacingReleasesNeverLoseACopy()
    {
        Assert.IsGreaterThanOrEqualTo(2, CpuAffinity.Online, "this test needs two CPUs");
        const int Packets = 100_000;
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        var frame = Frame;
        var popped = new BlockingCollection<byte[]>(boundedCapacity: 8);
        var refused = 0;
        var popper = Task.Run(() => CpuAffinity.On(0, () =>
        {
            try
            {
                for (var i = 0; i < Packets; i++)
                {
                    var rx = proxy.Rx(frame);
                    if (rx.Verdict == ProxyTestRuns.XdpDrop)
                    {
                        refused++;
                        continue;
                    }
                    if (rx.Verdict != ProxyTestRuns.XdpPass)
                        throw new AssertFailedException($"pop {i}: verdict {rx.Verdict}: {XdpRxFixtureTests.Format(proxy.Moved())}");
                    popped.Add(KernelVnf.Forward(rx.Frame));
                }
            }
            finally
            {
                // A pop that fails must end the restoring side too, or it waits for copies forever.
                popped.CompleteAdding();
            }
        }));
        var misses = 0;
        CpuAffinity.On(1, () =>
        {
            foreach (var f in popped.GetConsumingEnumerable())
                if (proxy.Tx(f).Verdict != ProxyTestRuns.TcOk)
                    misses++;
        });
        popper.GetAwaiter().GetResult();
        var moved = proxy.Moved();
        Assert.AreEqual(0, misses, $"copies that missed: {XdpRxFixtureTests.Format(moved)}");
        Assert.AreEqual((ulong)(Packets - refused), moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)refused, moved.GetValueOrDefault(Counter.RxCacheFull), $"every refused pop is counted: {XdpRxFixtureTests.Format(moved)}");
        Assert.IsLessThanOrEqualTo(Packets / 10_000, refused, $"pops refused while a twin was released: {XdpRxFixtureTests.Format(moved)}");
        Assert.AreEqual(0, proxy.CacheEntries, "the last release deleted the entry");
        Assert.IsGreaterThan(0ul, moved.GetValueOrDefault(Counter.RxDuplicateKey), "copies did join");
    }

    /// <summary>A copy that joins an entry renews its pop time: the aging sweep (MaxAge 1 s here) keeps
    /// an entry whose newest copy is still young, however old the first copy is.</summary>
    [TestMethod]
    public void AJoiningCopyRenewsThePopTime()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var first = proxy.Rx(Frame);
        var key = proxy.Cache.Keys<ulong>().Single();
        Assert.IsTrue(proxy.Cache.TryLookup(key, out SfcCacheEntry e));
        e.IngressNs = SfcProxy.Bpf.MonotonicClock.NowNs() - 10_000_000_000UL; // popped 10 s ago
        proxy.Cache.Update(key, e);

        var second = proxy.Rx(Frame);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxDuplicateKey));
        Assert.IsTrue(proxy.Cache.TryLookup(key, out e));
        Assert.AreEqual(2u, e.Refs);
        var age = SfcProxy.Bpf.MonotonicClock.NowNs() - e.IngressNs;
        Assert.IsLessThan(1_000_000_000UL, age, $"the entry's age is the newest copy's ({age} ns)");

        new CacheAging(proxy.Objects).Sweep(TimeSpan.FromSeconds(1));
        Assert.AreEqual(1, proxy.CacheEntries, "not aged out while a young copy is in the VNF");
        proxy.Tx(KernelVnf.Forward(first.Frame));
        proxy.Tx(KernelVnf.Forward(second.Frame));
        Assert.AreEqual(2ul, proxy.Moved().GetValueOrDefault(Counter.TxRestored));
    }
}
