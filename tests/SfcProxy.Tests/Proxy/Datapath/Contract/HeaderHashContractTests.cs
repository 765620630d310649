using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>
/// The round-trip property test of issue 11 (see <see cref="ContractRun"/>). Header-hash key mode: every packet the VNF forwards, reorders or rewrites (DSCP/ECN, TTL, MSS) comes back with its own headers; NAT, reassembly, late copies and aged packets may miss; near-collisions (issue 11) never swap headers, identical packets with other headers in the VNF at once are refused at ingress.
/// </summary>
[TestClass]
[DoNotParallelize] // pins its thread to one CPU and wants the 2 cores it shares with other work
public sealed class HeaderHashContractTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(600_000)]
    public void EveryPacketLeavesWithItsOwnHeadersOrACountedVerdict()
    {
        var run = new ContractRun(KeyMode.HeaderHash, ContractRun.PacketsPerMode());
        var (judge, summary) = run.Run();
        TestContext.WriteLine(summary);
        if (judge.Violations.Count > 0)
            Assert.Fail(run.Report(judge) + Environment.NewLine + summary);
        ContractRun.AssertCoverage(run, judge);
    }
}
