using SfcProxy.Datapath;

namespace SfcProxy.Tests.Datapath.Contract;

/// <summary>
/// The round-trip property test of issue 11 (see <see cref="ContractRun"/>). Metadata key mode: every packet the VNF forwards, rewrites, NATs, holds shorter than MaxAge or reassembles comes back with its own headers (the mark rides with it); a changed mark, a late copy or a packet held past MaxAge comes back with its own headers or as a counted miss; never with another packet's.
/// </summary>
[TestClass]
[DoNotParallelize] // pins its thread to one CPU and wants the 2 cores it shares with other work
public sealed class MetadataContractTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(600_000)]
    public void EveryPacketLeavesWithItsOwnHeadersOrACountedVerdict()
    {
        var run = new ContractRun(KeyMode.Metadata, ContractRun.PacketsPerMode());
        var (judge, summary) = run.Run();
        TestContext.WriteLine(summary);
        if (judge.Violations.Count > 0)
            Assert.Fail(run.Report(judge) + Environment.NewLine + summary);
        ContractRun.AssertCoverage(run, judge);
    }
}
