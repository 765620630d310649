namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// A start that fails puts back exactly what it found. Daemon A (DetachOnStop false, as under the
/// systemd unit) is killed while traffic flows; its pinned datapath keeps forwarding. Daemon B starts
/// with a config that validates but whose attach the kernel refuses (the ingress moved to a bridge,
/// native XDP, which a bridge does not have) and that would also change the datapath's settings
/// (ConsumedSegments 2) and detach on stop (the default). B must exit non-zero and leave A's links
/// running A's programs, A's config in the config map (a changed ConsumedSegments would damage every
/// restored stack), GRO off on A's ingress with A's note, and GRO on the bridge as it was: every packet
/// of the traffic arrives.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class RefusedRestartTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void AfterKillDashNine_ARestartWhoseAttachIsRefused_KeepsTheRunningDatapath_LosesNothing()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1) { PacketCount = 8000 },
            needBpftool: true);
        lab.PingPlainIp();
        var bridge = lab.Name + "br";
        lab.InProxyNs("add a bridge", "ip", "link", "add", bridge, "type", "bridge");
        lab.InProxyNs("bridge up", "ip", "link", "set", bridge, "up");
        lab.SetGro(bridge, on: true);
        lab.SetIngressGro(on: true);

        var config = lab.WriteConfig(p => p["DetachOnStop"] = false);
        var a = lab.StartDaemon(config);
        var progs = HitlessRestartTests.AssertRunningFromPins(lab, "daemon A");
        var note = lab.GroNote();
        Assert.IsNotNull(note, "daemon A turned GRO off and must have written its note");

        var receiver = lab.StartReceiver(timeoutSeconds: 25);
        var sender = lab.StartSender(pacing: ScenarioLab.Paced);
        sender.WaitForLine("SENDING", TimeSpan.FromSeconds(30), "sender");
        a.Kill();
        lab.Log("daemon A SIGKILLed");

        SfcProxyDaemon.EditConfig(config, p =>
        {
            p.Remove("DetachOnStop");
            p["ConsumedSegments"] = 2;
            p["XdpMode"] = "native";
            p["Interfaces"]!["Ingress"] = bridge;
        });
        var b = lab.AssertRefused(lab.LaunchDaemon(config), "daemon B (native XDP on a bridge)");
        var senderRunning = !sender.HasExited;

        var after = HitlessRestartTests.AssertRunningFromPins(lab, $"after the refused restart:\n{b}");
        CollectionAssert.AreEqual(progs, after, $"the refused restart changed the programs of the pinned links:\n{b}");
        Assert.IsFalse(lab.IngressGroIsOn(), $"the refused restart turned GRO back on under the running datapath:\n{b}");
        Assert.AreEqual(note, lab.GroNote(), $"the refused restart changed or removed the GRO note:\n{b}");
        Assert.IsTrue(lab.GroIsOn(bridge), $"the refused restart left GRO off on {bridge}:\n{b}");
        Assert.AreEqual(0u, BpfState.Hooks(lab.Topo.ProxyNs, bridge).Xdp, $"the refused restart left XDP on {bridge}");

        var sent = lab.WaitForSender(sender);
        var r = lab.WaitForResult(receiver);
        var vnf = lab.VnfCounters();
        var diag = lab.Diagnostics(r, sent, "(no daemon)", vnf, $"sender still running when B had refused: {senderRunning}",
            "--- daemon B ---", b, BpfState.DescribePins(lab.Instance));
        ScenarioLab.AssertAllOk(r, "the refused restart damaged the running datapath:\n" + diag);
        Assert.IsTrue(senderRunning, $"the sender had finished before B refused: the refusal was not under traffic (slow the pacing).\n{diag}");

        // The datapath is still whole: a good daemon takes it over and detaches it on stop.
        SfcProxyDaemon.EditConfig(config, p =>
        {
            p["ConsumedSegments"] = 1;
            p.Remove("XdpMode");
            p["Interfaces"]!["Ingress"] = lab.Topo.ProxyIngress;
        });
        var c = lab.StartDaemon(config);
        var stop = c.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, c.Process.ExitCode, $"daemon C: {stop}\n{c.Process.Describe(4000)}");
        lab.AssertFullyDetached("after daemon C took over and stopped");
        Assert.IsTrue(lab.IngressGroIsOn(), $"GRO not restored by the last owner (note {note}).\n{c.Process.Describe(4000)}");
    }
}
