using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy;

/// <summary>The host's latency model: bucket bounds, approximate percentiles, rendering, totals.</summary>
[TestClass]
public sealed class LatencyHistogramTests
{
    private static LatencyHistogram With(params (int Bucket, ulong Count)[] counts)
    {
        var b = new ulong[LatencyHistogram.BucketCount];
        foreach (var (i, n) in counts)
            b[i] = n;
        return new LatencyHistogram(b);
    }

    [TestMethod]
    [DataRow(0, "0-2 ns")]
    [DataRow(1, "2-4 ns")]
    [DataRow(9, "512 ns-1 us")]
    [DataRow(10, "1-2 us")]
    [DataRow(13, "8.2-16 us")]
    [DataRow(19, "524 us-1 ms")]
    [DataRow(30, "1.1-2.1 s")]
    [DataRow(31, ">= 2.1 s")]
    public void BucketRangesRenderApproximately(int bucket, string expected) =>
        Assert.AreEqual(expected, LatencyHistogram.FormatBucket(bucket));

    [TestMethod]
    public void BucketBoundsArePowersOfTwo()
    {
        Assert.AreEqual(0UL, LatencyHistogram.BucketLowerNs(0));
        Assert.AreEqual(2UL, LatencyHistogram.BucketUpperNs(0));
        Assert.AreEqual(524_288UL, LatencyHistogram.BucketLowerNs(19));
        Assert.AreEqual(1_048_576UL, LatencyHistogram.BucketUpperNs(19));
        Assert.IsNull(LatencyHistogram.BucketUpperNs(LatencyHistogram.BucketCount - 1), "the last bucket is open");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => LatencyHistogram.BucketLowerNs(LatencyHistogram.BucketCount));
    }

    [TestMethod]
    public void PercentilesAreTheUpperBoundOfTheirBucket()
    {
        // 50 packets in [1, 2) us, 40 in [4, 8) us, 9 in [64, 128) us, 1 in the open last bucket.
        var h = With((10, 50), (12, 40), (16, 9), (31, 1));
        Assert.AreEqual(100UL, h.Count);
        Assert.AreEqual(2048UL, h.P50Ns, "the 50th packet is the last in bucket 10");
        Assert.AreEqual(8192UL, h.P90Ns, "the 90th is the last in bucket 12");
        Assert.AreEqual(131_072UL, h.P99Ns, "the 99th is the last in bucket 16");
        Assert.AreEqual(1UL << 31, h.PercentileNs(1.0), "the open bucket reports its lower bound");
        Assert.AreEqual(10, h.PercentileBucket(0.0), "q 0: the first packet");
    }

    [TestMethod]
    public void EmptyHistogramHasNoPercentiles()
    {
        Assert.AreEqual(0UL, LatencyHistogram.Empty.Count);
        Assert.IsNull(LatencyHistogram.Empty.P50Ns);
        Assert.AreEqual(-1, LatencyHistogram.Empty.PercentileBucket(0.99));
    }

    [TestMethod]
    public void ReportTotalsSumTheChainsOfEachEncapsulation()
    {
        var report = LatencyReport.FromChains(
        [
            new ChainLatency(Encapsulation.Nsh, 9, With((12, 2))),
            new ChainLatency(Encapsulation.Mpls, 200, With((10, 1), (12, 1))),
            new ChainLatency(Encapsulation.Mpls, 100, With((10, 3))),
        ], 1024);
        CollectionAssert.AreEqual(new[] { "Mpls 100", "Mpls 200", "Nsh 9" },
            report.Chains.Select(c => $"{c.Encapsulation} {c.Chain}").ToList(), "ordered by encapsulation, then chain");
        var mpls = report.Encapsulations.Single(e => e.Encapsulation == Encapsulation.Mpls);
        Assert.AreEqual(2, mpls.Chains);
        Assert.AreEqual(4UL, mpls.Histogram.Buckets[10]);
        Assert.AreEqual(1UL, mpls.Histogram.Buckets[12]);
        Assert.AreEqual(2UL, report.Encapsulations.Single(e => e.Encapsulation == Encapsulation.Nsh).Histogram.Count);
    }

    [TestMethod]
    public void WrongBucketCountIsRefused() =>
        Assert.ThrowsExactly<ArgumentException>(() => new LatencyHistogram(new ulong[LatencyHistogram.BucketCount - 1]));
}
