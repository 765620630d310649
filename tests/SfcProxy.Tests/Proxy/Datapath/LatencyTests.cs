using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// VNF latency histograms through the real programs with BPF_PROG_TEST_RUN: every cache hit at
/// tc_tx lands in its chain's log2 bucket (MPLS: top label, NSH: SPI), misses do not, and the
/// host sums the CPUs into per-chain and per-encapsulation histograms. The age is controlled by
/// rewriting the cache entry's ingress_ns between xdp_rx and tc_tx.
/// </summary>
[TestClass]
public sealed class LatencyTests
{
    public static IEnumerable<object[]> Modes => [[KeyMode.Metadata], [KeyMode.HeaderHash]];

    private static int _ipId;

    /// <summary>A fresh IP id, so every packet has its own header-hash key.</summary>
    private static ushort NextId() => (ushort)Interlocked.Increment(ref _ipId);

    /// <summary>A distinct (IP id) IPv4/UDP packet under one MPLS label stack with the given top label.</summary>
    private static byte[] MplsFrame(uint topLabel, byte topTtl = 64) =>
        Packet.Eth().Mpls(topLabel, topTtl).Mpls(30000, 200).IPv4(id: NextId()).Udp().Payload(16).Build();

    private static byte[] NshFrame(uint spi, byte ttl = 40, byte si = 17) =>
        Packet.Eth().Nsh(spi: spi, si: si, ttl: ttl, context: new byte[16]).IPv4(id: NextId()).Udp().Payload(16).Build();

    /// <summary>xdp_rx, the kernel VNF model, tc_tx; returns tc_tx's run.</summary>
    private static TxRun RoundTrip(ProxyUnderTest proxy, byte[] frame, uint gsoSize = 0)
    {
        var rx = proxy.Rx(frame);
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, "xdp_rx pops");
        return proxy.Tx(KernelVnf.Forward(rx.Frame), rx, gsoSize);
    }

    /// <summary>
    /// Latency sampling rule: xdp_rx picks the packets whose per-CPU sequence number is a multiple
    /// of LatencySampleEvery, and tc_tx records only those. The test thread may move between CPUs
    /// between runs, so the expected count comes from each CPU's sequence range over the test.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(Modes))]
    public void OnlySampledPacketsAreRecorded(KeyMode mode)
    {
        const uint every = 4;
        const int packets = 40;
        using var proxy = new ProxyUnderTest(mode, latencySampleEvery: every);
        // sfc_meta_seq holds { seq, next slot } per CPU: the sequence is the low 32 bits
        var before = proxy.Objects.PacketSeq.LookupPerCpu<uint, ulong>(0u).Select(v => (uint)v).ToArray();
        for (var i = 0; i < packets; i++)
            Assert.AreEqual(ProxyTestRuns.TcOk, RoundTrip(proxy, MplsFrame(16000)).Verdict);
        var after = proxy.Objects.PacketSeq.LookupPerCpu<uint, ulong>(0u).Select(v => (uint)v).ToArray();

        ulong expected = 0;
        for (var cpu = 0; cpu < before.Length; cpu++)
            for (var s = before[cpu]; s != after[cpu]; s++)
                if (s % every == 0)
                    expected++;
        Assert.IsTrue(expected >= packets / every - (ulong)before.Length && expected <= packets / every + (ulong)before.Length,
            $"about 1 in {every} of {packets} packets sampled, got {expected}");

        var report = proxy.Objects.ReadLatency();
        Assert.AreEqual(every, report.SampleEvery, "the report says it is a sample");
        Assert.AreEqual($"Mpls 16000: {expected}", string.Join(", ", report.Chains.Select(c => $"{c.Encapsulation} {c.Chain}: {c.Histogram.Count}")),
            "exactly the sampled packets recorded");
        Assert.AreEqual((ulong)packets, proxy.Moved().GetValueOrDefault(Counter.TxRestored), "every packet restored, sampled or not");
    }

    [TestMethod]
    [DynamicData(nameof(Modes))]
    public void RestoredPacketsAreCountedPerChainAndPerEncapsulation(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        (Encapsulation Encap, uint Chain, int Packets)[] sent =
        [
            (Encapsulation.Mpls, 16000, 3),
            (Encapsulation.Mpls, 0xFFFFF, 2), // largest label value: all 20 bits
            (Encapsulation.Nsh, 0x123456, 2),
            (Encapsulation.Nsh, 0xFFFFFF, 1), // largest SPI: all 24 bits
            (Encapsulation.Nsh, 7, 4),
        ];
        foreach (var (encap, chain, packets) in sent)
            for (var i = 0; i < packets; i++)
                Assert.AreEqual(ProxyTestRuns.TcOk, RoundTrip(proxy, encap == Encapsulation.Mpls ? MplsFrame(chain) : NshFrame(chain)).Verdict);

        var report = proxy.Objects.ReadLatency();
        CollectionAssert.AreEqual(
            sent.OrderBy(s => s.Encap).ThenBy(s => s.Chain).Select(s => $"{s.Encap} {s.Chain}: {s.Packets}").ToList(),
            report.Chains.Select(c => $"{c.Encapsulation} {c.Chain}: {c.Histogram.Count}").ToList(),
            "one histogram per chain, counting its restored packets");
        CollectionAssert.AreEqual(new[] { "Mpls 2 chains: 5", "Nsh 3 chains: 7" },
            report.Encapsulations.Select(e => $"{e.Encapsulation} {e.Chains} chains: {e.Histogram.Count}").ToList(),
            "per encapsulation: the sum of its chains");
        var moved = proxy.Moved();
        Assert.AreEqual(moved.GetValueOrDefault(Counter.TxRestored), report.Encapsulations.Aggregate(0UL, (n, e) => n + e.Histogram.Count),
            "every restored packet counted once");
        Assert.AreEqual(SfcLimits.LatencyDefaultChains, report.ChainCapacity);
        foreach (var e in report.Encapsulations)
            for (var b = 0; b < LatencyHistogram.BucketCount; b++)
                Assert.AreEqual(report.Chains.Where(c => c.Encapsulation == e.Encapsulation).Aggregate(0UL, (n, c) => n + c.Histogram.Buckets[b]),
                    e.Histogram.Buckets[b], $"{e.Encapsulation} bucket {b}: sum of the chains' bucket");
    }

    /// <summary>
    /// The entry's ingress_ns is set to now - age just before tc_tx runs, so the packet spent
    /// between age and age + (the time to the end of tc_tx) in the "VNF": the bucket is
    /// floor(log2) of that, computed from the clock reads around the run. 1 ms is bucket 19
    /// ([524 288, 1 048 576) ns) unless more than 48 us pass between the write and tc_tx.
    /// </summary>
    [TestMethod]
    [DataRow(KeyMode.Metadata, 1_000_000UL, 19)]
    [DataRow(KeyMode.HeaderHash, 1_000_000UL, 19)]
    [DataRow(KeyMode.Metadata, 786_432UL, 19)]    // 1.5 * 2^19: middle of bucket 19
    [DataRow(KeyMode.HeaderHash, 12_288UL, 13)]   // 1.5 * 2^13
    [DataRow(KeyMode.Metadata, 3_221_225_472UL, 31)] // 1.5 * 2^31 (3.2 s): the open last bucket
    public void AgeOfTheCacheEntryPicksTheBucket(KeyMode mode, ulong ageNs, int typicalBucket)
    {
        using var proxy = new ProxyUnderTest(mode);
        var rx = proxy.Rx(MplsFrame(16000));
        var (before, after) = AgeAndRestore(proxy, rx, ageNs);

        var chain = proxy.Objects.ReadLatency().Chains.Single();
        Assert.AreEqual(1UL, chain.Histogram.Count);
        var bucket = Enumerable.Range(0, LatencyHistogram.BucketCount).Single(b => chain.Histogram.Buckets[b] == 1);
        // ingress = before - age; tc_tx read the clock between before and after.
        int lowest = Bucket(ageNs), highest = Bucket(ageNs + (after - before));
        Assert.IsTrue(bucket >= lowest && bucket <= highest,
            $"age {ageNs} ns + {after - before} ns until tc_tx returned: bucket {lowest}..{highest}, got {bucket}");
        if (lowest == highest)
            Assert.AreEqual(typicalBucket, bucket, $"{ageNs} ns -> bucket {typicalBucket} ({LatencyHistogram.FormatBucket(typicalBucket)})");
    }

    [TestMethod]
    public void EntryStampedInTheFutureCountsAsZero()
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata);
        var rx = proxy.Rx(NshFrame(42));
        SetIngress(proxy, rx, MonotonicClock.NowNs() + 10_000_000_000UL);
        Assert.AreEqual(ProxyTestRuns.TcOk, proxy.Tx(KernelVnf.Forward(rx.Frame), rx).Verdict);
        var h = proxy.Objects.ReadLatency().Chains.Single().Histogram;
        Assert.AreEqual(1UL, h.Buckets[0], "bucket 0: [0, 2) ns");
    }

    [TestMethod]
    [DataRow(MissPolicy.Drop)]
    [DataRow(MissPolicy.Pass)]
    public void MissesAreNotCounted(MissPolicy miss)
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: miss);
        // Never popped: tc_tx finds nothing.
        var frame = Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac).IPv4(id: 777).Udp().Payload(16).Build();
        proxy.Tx(frame);
        proxy.Tx(frame, mark: 5u << 16);
        Assert.AreEqual(2UL, proxy.Moved().GetValueOrDefault(miss == MissPolicy.Drop ? Counter.TxMissDrop : Counter.TxMissPass));
        var report = proxy.Objects.ReadLatency();
        Assert.IsEmpty(report.Chains);
        Assert.IsEmpty(report.Encapsulations);
    }

    /// <summary>
    /// Every hit counts, whatever tc_tx then does with the packet: the time in the VNF is known
    /// for all of them. Misses in the same run do not.
    /// </summary>
    [TestMethod]
    public void HitsThatAreDroppedOrSentPlainCountToo()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, consumed: 1, miss: MissPolicy.Pass);
        Assert.AreEqual(ProxyTestRuns.TcShot, RoundTrip(proxy, MplsFrame(100, topTtl: 1)).Verdict, "MPLS TTL expired");
        Assert.AreEqual(ProxyTestRuns.TcShot, RoundTrip(proxy, NshFrame(200, ttl: 1)).Verdict, "NSH TTL expired");
        Assert.AreEqual(ProxyTestRuns.TcShot, RoundTrip(proxy, NshFrame(200, si: 1)).Verdict, "NSH SI exhausted");
        Assert.AreEqual(ProxyTestRuns.TcShot, RoundTrip(proxy, MplsFrame(100), gsoSize: 1400).Verdict, "GSO");
        // One label, consumed by the VNF: restored-last, sent as plain IP.
        var rx = proxy.Rx(Packet.Eth().Mpls(300, 64).IPv4(id: NextId()).Udp().Payload(16).Build());
        Assert.AreEqual(ProxyTestRuns.TcOk, proxy.Tx(KernelVnf.Forward(rx.Frame), rx).Verdict);
        proxy.Tx(Packet.Eth().IPv4(id: 9999).Udp().Payload(16).Build()); // miss

        var moved = proxy.Moved();
        Assert.AreEqual(2UL, moved.GetValueOrDefault(Counter.TxTtlExpired), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1UL, moved.GetValueOrDefault(Counter.TxSiExhausted), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1UL, moved.GetValueOrDefault(Counter.TxGso), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1UL, moved.GetValueOrDefault(Counter.TxRestoredLast), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1UL, moved.GetValueOrDefault(Counter.TxMissPass), XdpRxFixtureTests.Format(moved));
        CollectionAssert.AreEqual(new[] { "Mpls 100: 2", "Mpls 300: 1", "Nsh 200: 2" },
            proxy.Objects.ReadLatency().Chains.Select(c => $"{c.Encapsulation} {c.Chain}: {c.Histogram.Count}").ToList());
    }

    /// <summary>
    /// The map keeps at most max_entries chains: a new chain evicts a least recently seen one
    /// (the kernel's LRU is approximate, so which one is not asserted), never the one just seen.
    /// </summary>
    [TestMethod]
    public void ChainsBeyondTheCapacityEvictOldOnes()
    {
        const uint capacity = 8;
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, latencyChains: capacity);
        Assert.AreEqual(capacity, proxy.Objects.Latency.MaxEntries);
        for (var label = 1000u; label < 1000 + 5 * capacity; label++)
            Assert.AreEqual(ProxyTestRuns.TcOk, RoundTrip(proxy, MplsFrame(label)).Verdict);

        var report = proxy.Objects.ReadLatency();
        Assert.AreEqual(capacity, report.ChainCapacity);
        Assert.IsTrue(report.Chains.Count is > 0 and <= (int)capacity, $"{report.Chains.Count} chains kept, capacity {capacity}");
        Assert.AreEqual(1UL, report.Chains.Single(c => c.Chain == 1000 + 5 * capacity - 1).Histogram.Count, "the last chain seen is kept");
        Assert.AreEqual(5UL * capacity, proxy.Moved().GetValueOrDefault(Counter.TxRestored), "eviction costs samples, never packets");
    }

    /// <summary>Sets the entry's ingress_ns to now - age, runs tc_tx; returns the clock before the write and after tc_tx.</summary>
    private static (ulong Before, ulong After) AgeAndRestore(ProxyUnderTest proxy, RxRun rx, ulong ageNs)
    {
        var frame = KernelVnf.Forward(rx.Frame);
        var before = MonotonicClock.NowNs();
        SetIngress(proxy, rx, before - ageNs);
        var tx = proxy.Tx(frame, rx);
        var after = MonotonicClock.NowNs();
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, "restored");
        return (before, after);
    }

    /// <summary>Rewrites the ingress_ns of the one cached entry (the one <paramref name="rx"/> popped).</summary>
    private static void SetIngress(ProxyUnderTest proxy, RxRun rx, ulong ingressNs)
    {
        if (proxy.Mode == KeyMode.Metadata)
        {
            var key = ProxyUnderTest.KeyOf(rx);
            var (slot, e) = MetadataSlots.Occupied(proxy.Cache).SingleOrDefault(o => o.Entry.Owner == key);
            Assert.AreEqual(key, e.Owner, "the popped entry is cached in a slot its key owns");
            e.IngressNs = ingressNs;
            proxy.Cache.Update(slot, e, MapUpdateFlags.Exist);
        }
        else
        {
            var key = proxy.Cache.Keys<ulong>().Single();
            Assert.IsTrue(proxy.Cache.TryLookup(key, out SfcCacheEntry e), "the popped entry is cached");
            e.IngressNs = ingressNs;
            proxy.Cache.Update(key, e, MapUpdateFlags.Exist);
        }
    }

    /// <summary>floor(log2(ns)) capped at the last bucket, as tc_tx computes it.</summary>
    private static int Bucket(ulong ns) => Math.Min(ns == 0 ? 0 : 63 - (int)ulong.LeadingZeroCount(ns), LatencyHistogram.BucketCount - 1);
}
