using SfcProxy.Proxy;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The stop's teardown runs every step whatever an earlier one did, and reports each failure. A
/// link pin that cannot be removed (replaced under the running daemon by a directory of the same
/// name) must not keep the stop from turning GRO back on, detaching every program and removing the
/// other pins; the stop names the step that failed and exits non-zero.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class TeardownTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void AnUnpinThatFails_StillRestoresGro_DetachesEverything_ReportsTheStep()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1), needBpftool: true);
        lab.SetIngressGro(on: true);
        var daemon = lab.StartDaemon(lab.WriteConfig());
        HitlessRestartTests.AssertRunningFromPins(lab, "daemon");

        // The daemon still holds the link's fd, so tc_tx stays attached; its pin is now a directory.
        var pin = lab.LinkPin(SfcBpfNames.TcTx.Program);
        File.Delete(pin);
        Directory.CreateDirectory(pin);
        try
        {
            var stop = daemon.Stop(TimeSpan.FromSeconds(15));
            var output = daemon.Process.Describe(6000);
            lab.Log(stop);
            Assert.AreNotEqual(0, daemon.Process.ExitCode, $"a stop with a failed step must not exit 0: {stop}\n{output}");
            StringAssert.Contains(daemon.Process.StdOut + daemon.Process.StdErr, Path.GetFileName(pin),
                $"the failed step (removing {pin}) is not reported:\n{output}");

            Assert.IsTrue(lab.IngressGroIsOn(), $"GRO was not turned back on after the failed step:\n{output}");
            var ingress = lab.IngressHooks();
            var egress = lab.EgressHooks();
            Assert.AreEqual(0u, ingress.Xdp, $"xdp_rx is still attached:\n{ingress}\n{output}");
            Assert.IsEmpty(ingress.TcxIngress, $"meta_mark is still attached:\n{ingress}\n{output}");
            Assert.IsEmpty(egress.TcxEgress, $"tc_tx is still attached:\n{egress}\n{output}");
            var left = Directory.EnumerateFileSystemEntries(lab.PinDir).Select(Path.GetFileName).ToList();
            CollectionAssert.AreEqual(new[] { Path.GetFileName(pin) }, left,
                $"the pins other than the failed one were not all removed:\n{output}");
            Assert.IsNull(lab.GroNote(), $"the GRO note stayed although GRO was restored:\n{output}");
        }
        finally
        {
            if (Directory.Exists(pin))
                Directory.Delete(pin);
        }
    }
}
