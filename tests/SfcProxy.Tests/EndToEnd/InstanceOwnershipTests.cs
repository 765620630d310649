namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// One daemon owns an instance (an exclusive lock on its pin directory) from before it loads or
/// touches anything until it has finished its stop. A second daemon of the same instance, whatever
/// its socket path, and `sfcproxy detach` refuse while the owner lives, and change nothing: the
/// owner's links, pins, GRO setting and GRO note stay, every packet of the traffic flowing through it
/// arrives, and the owner's own stop still detaches cleanly.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class InstanceOwnershipTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Daemon A runs with traffic flowing; daemon B with A's config but another socket, daemon
    /// C with A's config and socket, and `sfcproxy detach` each refuse, naming A's pid.</summary>
    [TestMethod]
    public void OneAfterTheOther_SecondDaemonAndDetachRefuse_TrafficAndOwnerUntouched()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1) { PacketCount = 8000 },
            needBpftool: true);
        lab.PingPlainIp();
        lab.SetIngressGro(on: true);
        var config = lab.WriteConfig();
        var a = lab.StartDaemon(config);
        var progs = HitlessRestartTests.AssertRunningFromPins(lab, "daemon A");
        var note = lab.GroNote();
        Assert.IsNotNull(note, $"daemon A turned GRO off and must have written its note {lab.GroNotePath}");

        var receiver = lab.StartReceiver(timeoutSeconds: 25);
        var sender = lab.StartSender(pacing: ScenarioLab.Paced);
        sender.WaitForLine("SENDING", TimeSpan.FromSeconds(30), "sender");

        var otherSocket = Path.Combine(lab.Tmp, "b.sock");
        var configB = Path.Combine(lab.Tmp, "b.json");
        File.Copy(config, configB);
        SfcProxyDaemon.EditConfig(configB, p => p["Socket"] = new System.Text.Json.Nodes.JsonObject { ["Path"] = otherSocket });
        var b = lab.AssertRefused(lab.LaunchDaemon(configB), "daemon B (same instance, another socket)");
        StringAssert.Contains(b, $"pid {a.Process.Pid}", $"daemon B's refusal should name the owner:\n{b}");
        Assert.IsFalse(File.Exists(otherSocket), $"the refused daemon B left a socket at {otherSocket}");

        var c = lab.AssertRefused(lab.LaunchDaemon(config), "daemon C (same instance, same socket)");
        StringAssert.Contains(c, $"pid {a.Process.Pid}", $"daemon C's refusal should name the owner:\n{c}");

        var detach = SfcProxyDaemon.Detach(lab.Topo, lab.Instance, BpfState.DefaultPinRoot, lab.SocketPath);
        lab.Log($"sfcproxy detach while A runs: {detach}");
        Assert.AreNotEqual(0, detach.ExitCode, $"sfcproxy detach must refuse while daemon A owns the instance:\n{detach}");
        StringAssert.Contains(detach.StdErr, $"pid {a.Process.Pid}", $"the refusal should name the owner:\n{detach}");

        var after = HitlessRestartTests.AssertRunningFromPins(lab, "after the refused daemons and detach");
        CollectionAssert.AreEqual(progs, after, "a refused daemon or detach changed the programs of daemon A's links");
        Assert.IsFalse(lab.IngressGroIsOn(), "a refused daemon or detach turned GRO back on under daemon A");
        Assert.AreEqual(note, lab.GroNote(), "a refused daemon or detach changed or removed daemon A's GRO note");
        Assert.AreEqual(0, a.Cli("status", "--json").ExitCode, $"daemon A stopped answering.\n{a.Process.Describe(3000)}");

        var sent = lab.WaitForSender(sender);
        var r = lab.WaitForResult(receiver);
        var stats = a.Stats(lab.Topo);
        var vnf = lab.VnfCounters();
        var stop = a.Stop(TimeSpan.FromSeconds(15));
        var diag = lab.Diagnostics(r, sent, stats, vnf, stop, a.Process.Describe(4000));
        ScenarioLab.AssertAllOk(r, "packets lost or damaged while other daemons tried the instance:\n" + diag);
        Assert.AreEqual(0, a.Process.ExitCode, $"daemon A's own stop failed after the refused attempts: {stop}\n{diag}");
        lab.AssertFullyDetached($"after daemon A's stop.\n{diag}");
        Assert.IsTrue(lab.IngressGroIsOn(), $"daemon A's stop did not turn GRO back on.\n{diag}");
        Assert.IsNull(lab.GroNote(), "daemon A's stop left its GRO note");
    }

    /// <summary>Two daemons of one instance started at the same moment onto a datapath that is
    /// forwarding (its daemon killed, DetachOnStop false, as a systemd restart racing an operator):
    /// exactly one takes it over (its socket answers, the links run its programs), the other refuses;
    /// every packet of the traffic flowing through the race arrives, and the owner's stop leaves nothing.</summary>
    [TestMethod]
    public void AtOnce_OntoARunningDatapath_ExactlyOneOwns_TrafficWhole_StopLeavesNothing()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 1) { PacketCount = 8000 },
            needBpftool: true);
        lab.PingPlainIp();
        lab.SetIngressGro(on: true);
        var config = lab.WriteConfig(p => p["DetachOnStop"] = false);
        var killed = lab.StartDaemon(config);
        var progs = HitlessRestartTests.AssertRunningFromPins(lab, "the first daemon");
        var receiver = lab.StartReceiver(timeoutSeconds: 25);
        var sender = lab.StartSender(pacing: ScenarioLab.Paced);
        sender.WaitForLine("SENDING", TimeSpan.FromSeconds(30), "sender");
        killed.Kill();
        SfcProxyDaemon.EditConfig(config, p => p.Remove("DetachOnStop"));

        var first = lab.LaunchDaemon(config);
        var second = lab.LaunchDaemon(config);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        while (!(first.HasExited || second.HasExited) && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        Assert.IsTrue(first.HasExited || second.HasExited,
            $"two daemons of one instance both kept running.\n--- first ---\n{first.Describe(3000)}\n--- second ---\n{second.Describe(3000)}");
        var (loser, owner) = first.HasExited ? (first, second) : (second, first);
        var refusal = lab.AssertRefused(loser, "the daemon that lost the race");
        var status = lab.WaitForStatus(owner);
        var senderRunning = !sender.HasExited;
        var taken = HitlessRestartTests.AssertRunningFromPins(lab, "the owner");
        var groOff = !lab.IngressGroIsOn();

        var sent = lab.WaitForSender(sender);
        var r = lab.WaitForResult(receiver);
        var vnf = lab.VnfCounters();
        var stop = owner.Stop(TimeSpan.FromSeconds(15));
        var diag = lab.Diagnostics(r, sent, "", vnf, $"sender still running when the race was over: {senderRunning}",
            $"owner stopped gracefully: {stop}", owner.Describe(4000), "--- loser ---", loser.Describe(3000));
        ScenarioLab.AssertAllOk(r, "packets lost or damaged while two daemons raced for the instance:\n" + diag);
        Assert.IsTrue(senderRunning, $"the traffic was over before the race was: slow the pacing.\n{diag}");
        StringAssert.Contains(status, $"\"pid\":{owner.Pid}", $"the socket is answered by another process than the owner.\n{diag}");
        StringAssert.Contains(refusal, $"pid {owner.Pid}", $"the refusal should name the owner.\n{diag}");
        for (var i = 0; i < progs.Length; i++)
            Assert.AreNotEqual(progs[i], taken[i], $"link_{lab.LinkPrograms[i]} still ran the killed daemon's program: the owner did not take it over.\n{diag}");
        Assert.IsTrue(groOff, $"the owner ran with GRO on.\n{diag}");
        Assert.AreEqual(0, owner.ExitCode, $"the owner's stop failed.\n{diag}");
        lab.AssertFullyDetached($"after the owner's stop.\n{diag}");
        Assert.IsTrue(lab.IngressGroIsOn(), $"GRO is not back on after the owner's stop.\n{diag}");
        Assert.IsNull(lab.GroNote(), "the owner's stop left the GRO note");
    }
}
