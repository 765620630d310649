using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>
/// The round-trip property test of issue 11 (see <see cref="ContractRun"/>). Metadata key mode: every packet the VNF forwards, rewrites, holds shorter than MaxAge or reassembles comes back with its own headers (the mark rides with it); a changed mark, a late copy or a packet held past MaxAge comes back with its own headers or as a counted miss; never with another packet's. With the strict fingerprint (the default) a NATed packet may miss; with the "nat" fingerprint it comes back with its own headers, and marks are moved only between packets that differ in more than NAT rewrites (the documented limit of that mode).
/// </summary>
[TestClass]
[DoNotParallelize] // pins its thread to one CPU and wants the 2 cores it shares with other work
public sealed class MetadataContractTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(600_000)]
    [DataRow(MetaFingerprint.Strict)]
    [DataRow(MetaFingerprint.Nat)]
    public void EveryPacketLeavesWithItsOwnHeadersOrACountedVerdict(MetaFingerprint fingerprint)
    {
        var run = new ContractRun(KeyMode.Metadata, ContractRun.PacketsPerMode(), fingerprint);
        var (judge, summary) = run.Run();
        TestContext.WriteLine(summary);
        if (judge.Violations.Count > 0)
            Assert.Fail(run.Report(judge) + Environment.NewLine + summary);
        ContractRun.AssertCoverage(run, judge);
    }
}
