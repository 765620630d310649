using SfcProxy.Bpf;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// Which clock stamps a pop (sfc_config.coarse_clock, issue 15): with it set, a packet not sampled
/// for latency is stamped with the coarse monotonic clock (the last tick's time, behind the
/// precise clock by up to a tick), a latency sample always with the precise clock; without it,
/// every packet with the precise clock. Judged against the host's CLOCK_MONOTONIC read right
/// before each pop: a precise stamp is never earlier than that read, a coarse one almost always is
/// (unless a tick falls between the read and the pop, which 10 packets in a row do not all meet).
/// </summary>
[TestClass]
public sealed class PopClockTests
{
    private const int Packets = 10;

    private static byte[] Frame(int i) => Packet.Eth().Labels(2).IPv4(id: (ushort)(100 + i)).Tcp(seq: (uint)i * 1000).Payload(32).Build();

    /// <summary>How many of the pops were stamped before the host's clock read just before them.</summary>
    private static int StampedBeforeTheirPop(ProxyUnderTest proxy)
    {
        var earlier = 0;
        for (var i = 0; i < Packets; i++)
        {
            var before = MonotonicClock.NowNs();
            var popped = proxy.Rx(Frame(i));
            Assert.AreEqual(ProxyTestRuns.XdpPass, popped.Verdict);
            var entry = proxy.Cache.Keys<ulong>().Select(k => proxy.Cache.TryLookup(k, out SfcCacheEntry e) ? e : default).Single();
            if (entry.IngressNs < before)
                earlier++;
            proxy.Tx(KernelVnf.Forward(popped.Frame));
            Assert.AreEqual(0, proxy.CacheEntries, "the packet left with its entry");
        }
        return earlier;
    }

    [TestMethod]
    public void WithTheCoarseClockUnsampledPopsAreStampedWithTheLastTick()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, latencySampleEvery: 1_000_000, coarseClock: true);
        // sequence number 0 is a sample (0 % N == 0): its round trip first
        proxy.Tx(KernelVnf.Forward(proxy.Rx(Frame(-1)).Frame));
        Assert.IsGreaterThan(0, StampedBeforeTheirPop(proxy), "a coarse stamp lags the precise clock");
    }

    [TestMethod]
    public void WithoutItAndForLatencySamplesEveryPopIsStampedPrecisely()
    {
        using (var precise = new ProxyUnderTest(KeyMode.HeaderHash, latencySampleEvery: 1_000_000, coarseClock: false))
        {
            precise.Tx(KernelVnf.Forward(precise.Rx(Frame(-1)).Frame));
            Assert.AreEqual(0, StampedBeforeTheirPop(precise), "the precise clock never lags the host's read");
        }
        using var sampled = new ProxyUnderTest(KeyMode.HeaderHash, latencySampleEvery: 1, coarseClock: true);
        Assert.AreEqual(0, StampedBeforeTheirPop(sampled), "a latency sample is stamped precisely");
    }
}
