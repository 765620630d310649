using SfcProxy.Bench;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Bench;

/// <summary>
/// `sfcproxy bench`'s SFC rows: the static proxy they are read against does the same job as the
/// datapath (the same bytes come out), or its ratio would flatter or shame the datapath for the
/// wrong reason. A short run; the numbers themselves are the benchmark's, not a test's.
/// </summary>
[TestClass]
[DoNotParallelize] // loads its own objects and pins for the duration of the run
public sealed class CoreBenchmarkTests
{
    [TestMethod]
    public void TheStaticProxyLeavesTheSameFramesAsTheDatapath()
    {
        BpfEnvironmentCheck.Require();
        const int packets = 200;
        var (rows, _) = CoreBenchmark.Run(packets, [1, 2, 16], 64, _ => { });

        Assert.AreEqual(2 * 9, rows.Count, "mpls 1, 2 and 16 labels, nsh md1 and md2, srv6 1, 4, 16 segments and 4 with TLVs, in both key modes");
        Assert.AreEqual(2 * 4, rows.Count(r => r.Headers.StartsWith("srv6", StringComparison.Ordinal)), "the SRv6 rows");
        foreach (var r in rows)
        {
            var name = $"{r.Mode} {r.Headers} {r.Labels}";
            Assert.AreEqual(packets, r.Restored, $"{name}: every packet restored");
            // the least per-packet cache is timed beside them (CoreBenchmark.Run throws when its frames are wrong)
            Assert.IsTrue(r.RoundTrip.Mean > 0 && r.Static.Mean > 0 && r.Floor.Mean > 0 && r.Slot.Mean > 0, $"{name}: timed");
            Assert.IsTrue(r.RoundTrip.Median <= r.RoundTrip.P99, $"{name}: median <= p99");
            if (r.Headers == "mpls" && r.Labels == 1)
            {
                // the last segment leaves as plain IP with the label's TTL (tc_tx) where the
                // static proxy pushes nothing and leaves the IP TTL: the one row whose frames differ
                Assert.AreEqual(0, r.StaticSame, $"{name}: the datapath rewrites the IP TTL, the static proxy does not");
                continue;
            }
            Assert.AreEqual(packets, r.StaticSame, $"{name}: the static proxy pushes what the datapath pushes");
        }
        var table = CoreBenchmark.ToMarkdown(rows, []);
        StringAssert.Contains(table, "/ static (mean)");
        StringAssert.Contains(table, "slot / static (median)");
    }

    [TestMethod]
    public void OnlyMeasuresTheRowsItNames()
    {
        BpfEnvironmentCheck.Require();
        var (one, stages) = CoreBenchmark.Run(20, [1, 4], 64, _ => { }, only: "metadata mpls 4");
        Assert.AreEqual("Metadata mpls 4", string.Join(";", one.Select(r => $"{r.Mode} {r.Headers} {r.Labels}")));
        Assert.IsEmpty(stages, "no stage rows with --only");
        var (nsh, _) = CoreBenchmark.Run(20, [1, 4], 64, _ => { }, only: "header-hash nsh");
        Assert.AreEqual(2, nsh.Count, "header-hash nsh md1 and md2");
        Assert.IsTrue(nsh.All(r => r.Mode == KeyMode.HeaderHash && r.Headers.StartsWith("nsh", StringComparison.Ordinal)));
    }
}
