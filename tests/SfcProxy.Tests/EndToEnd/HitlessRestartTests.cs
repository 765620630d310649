using System.Globalization;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// Restarts and stops with `SfcProxy:DetachOnStop`. With false the links are pinned in the instance
/// directory (`link_xdp_rx@IN`, `link_tc_tx@OUT`, `link_meta_mark@IN`) and stay, with the maps, when
/// the daemon exits or dies; the next daemon of the instance reuses the maps and swaps its freshly
/// loaded programs into the pinned links (bpf_link update: the link's prog_id changes, no packet
/// is lost). With true (the default) a stop leaves nothing. `sfcproxy detach` clears an instance
/// left attached.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class HitlessRestartTests
{
    /// <summary>Paced so the traffic outlasts the restart: 8000 packets, 4 per burst, 2 ms apart
    /// (at least 4 s on the wire; the daemon is replaced after about 1 s).</summary>
    private const int RestartPackets = 8000;
    private static readonly string[] Pacing = ["--batch", "4", "--gap-ms", "2"];

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Daemon A (DetachOnStop false) is SIGKILLed mid-traffic; the pinned datapath keeps
    /// forwarding; daemon B takes over the pinned links. Metadata key, kernel VNF, MPLS.</summary>
    [TestMethod]
    public void KillDashNine_MidTraffic_MetadataKey_KernelVnf_LosesNoPacket() =>
        RestartMidTraffic(new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1) { PacketCount = RestartPackets },
            killA: true);

    /// <summary>Daemon A (DetachOnStop false) is stopped with SIGTERM mid-traffic and exits 0,
    /// leaving its links and maps pinned; daemon B takes over. Header-hash key, user-mode TUN VNF.</summary>
    [TestMethod]
    public void GracefulRestart_MidTraffic_HeaderHashKey_TunVnf_LosesNoPacket() =>
        RestartMidTraffic(new ScenarioOptions(KeyMode: "header-hash", UserVnf: true, IpHops: 2) { PacketCount = RestartPackets },
            killA: false);

    /// <summary>DetachOnStop left at its default (true): the running daemon has its links pinned;
    /// SIGTERM leaves no pin, no XDP on the ingress, no tcx program on either device.</summary>
    [TestMethod]
    public void DetachOnStopDefault_Sigterm_LeavesNothingAttached()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1), needBpftool: true);
        var daemon = lab.StartDaemon(lab.WriteConfig()); // no DetachOnStop field: the default
        AssertRunningFromPins(lab, "daemon with DetachOnStop at its default");

        var stopInfo = daemon.Stop(TimeSpan.FromSeconds(15));
        lab.Log(stopInfo);
        Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM: {stopInfo}\n{daemon.Process.Describe(3000)}");
        lab.AssertFullyDetached($"after SIGTERM with DetachOnStop true (default).\n{daemon.Process.Describe(3000)}");
    }

    /// <summary>kill -9 with DetachOnStop false: the datapath keeps running from the pins (a short
    /// run delivers every packet without any daemon); `sfcproxy detach` then removes links and pins
    /// (exit 0) and turns GRO back on at the ingress, where it was on before the daemon (the
    /// daemon's note beside its socket says so), and a second detach finds nothing and still exits 0.</summary>
    [TestMethod]
    public void DetachCommand_AfterKillDashNine_RemovesLinksAndPins()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1) { PacketCount = 400 },
            needBpftool: true);
        lab.PingPlainIp();
        SetGro(lab, on: true);
        var daemon = lab.StartDaemon(lab.WriteConfig(p => p["DetachOnStop"] = false));
        var progs = AssertRunningFromPins(lab, "daemon with DetachOnStop false");
        Assert.IsFalse(GroIsOn(lab), "the daemon turns GRO off at the ingress while attached");

        daemon.Kill();
        lab.Log("daemon SIGKILLed");
        var after = AssertRunningFromPins(lab, "after kill -9 (DetachOnStop false): the pinned links must keep the programs attached");
        CollectionAssert.AreEqual(progs, after, "the pinned links changed programs although no daemon ran");

        // No daemon at all: the pinned datapath still pops and restores.
        var receiver = lab.StartReceiver();
        var send = lab.Send();
        var r = lab.WaitForResult(receiver);
        var vnf = lab.VnfCounters();
        var diag = lab.Diagnostics(r, send.StdOut, "(no daemon running)", vnf, BpfState.DescribePins(lab.Instance), daemon.Process.Describe(3000));
        ScenarioLab.AssertAllOk(r, "traffic without a daemon (after kill -9, DetachOnStop false):\n" + diag);
        lab.AssertVnfSawTraffic(r, vnf, diag);

        var groNote = Path.Combine(Path.GetDirectoryName(lab.SocketPath)!, lab.Instance + ".gro");
        Assert.IsTrue(File.Exists(groNote), $"kill -9 leaves the daemon's GRO note {groNote}");
        var detach = SfcProxyDaemon.Detach(lab.Topo, lab.Instance, BpfState.DefaultPinRoot, lab.SocketPath);
        lab.Log($"sfcproxy detach: {detach}");
        Assert.AreEqual(0, detach.ExitCode, $"sfcproxy detach --instance {lab.Instance} failed:\n{detach}");
        lab.AssertFullyDetached($"after `sfcproxy detach --instance {lab.Instance}`:\n{detach}");
        Assert.IsTrue(GroIsOn(lab), $"sfcproxy detach turns GRO back on (it was on before the daemon):\n{detach}");
        Assert.IsFalse(File.Exists(groNote), "sfcproxy detach removes the GRO note");
        SetGro(lab, on: false);

        var again = SfcProxyDaemon.Detach(lab.Topo, lab.Instance);
        lab.Log($"second sfcproxy detach: {again}");
        Assert.AreEqual(0, again.ExitCode, $"sfcproxy detach of an instance with nothing attached should exit 0:\n{again}");
        Assert.IsFalse(string.IsNullOrWhiteSpace(again.StdOut + again.StdErr),
            $"sfcproxy detach with nothing attached should say so:\n{again}");
    }

    /// <summary>
    /// Daemon A with DetachOnStop false; receiver; sender in the background; about 1 s into the
    /// traffic A is SIGKILLed (<paramref name="killA"/>) or SIGTERMed (must exit 0); the pinned
    /// links must still run A's programs; daemon B (same config, but DetachOnStop true so its own
    /// stop cleans up) starts: each pinned link now runs another program (B's), and the devices run
    /// exactly those. Then: every packet delivered exactly once with the right headers, B's
    /// counters include A's pops (the pinned counters map survived), B's SIGTERM leaves nothing.
    /// </summary>
    private void RestartMidTraffic(ScenarioOptions o, bool killA)
    {
        using var lab = ScenarioLab.Up(TestContext, o, needBpftool: true);
        lab.PingPlainIp();
        var config = lab.WriteConfig(p => p["DetachOnStop"] = false);
        var a = lab.StartDaemon(config);
        var progsA = AssertRunningFromPins(lab, "daemon A (DetachOnStop false)");
        lab.Log($"daemon A ready (pid {a.Process.Pid}), links run {Describe(lab, progsA)}");

        var receiver = lab.StartReceiver(timeoutSeconds: 25);
        var sender = lab.StartSender(pacing: Pacing);
        sender.WaitForLine("SENDING", TimeSpan.FromSeconds(30), "sender (sfc_traffic.py send)");
        Thread.Sleep(1000);
        Assert.IsFalse(sender.HasExited, $"the sender finished within 1 s: the restart would not be mid-traffic (slow the pacing).\n{sender.Describe()}");

        string stopA;
        if (killA)
        {
            a.Kill();
            stopA = "daemon A SIGKILLed";
        }
        else
        {
            stopA = a.Stop(TimeSpan.FromSeconds(10));
            Assert.AreEqual(0, a.Process.ExitCode, $"daemon A should exit 0 on SIGTERM: {stopA}\n{a.Process.Describe(3000)}");
        }
        lab.Log(stopA);
        var orphaned = AssertRunningFromPins(lab, $"{stopA} with DetachOnStop false: the links must stay pinned and attached");
        CollectionAssert.AreEqual(progsA, orphaned, $"after {stopA} the pinned links should still run A's programs");

        SfcProxyDaemon.EditConfig(config, p => p["DetachOnStop"] = true);
        var b = lab.StartDaemon(config);
        var senderRunningAtB = !sender.HasExited;
        var progsB = AssertRunningFromPins(lab, "daemon B (restarted on A's pins)");
        lab.Log($"daemon B ready (pid {b.Process.Pid}), links run {Describe(lab, progsB)}; sender still sending: {senderRunningAtB}");
        for (var i = 0; i < progsA.Length; i++)
        {
            Assert.AreNotEqual(progsA[i], progsB[i],
                $"link_{lab.LinkPrograms[i]} still runs A's program {progsA[i]}: daemon B did not update the pinned link with its own program.\n{b.Process.Describe(3000)}");
        }

        var sent = lab.WaitForSender(sender);
        var r = lab.WaitForResult(receiver);
        var stats = b.Stats(lab.Topo);
        var vnf = lab.VnfCounters();
        var stopB = b.Stop(TimeSpan.FromSeconds(15));
        lab.Log($"daemon B stats: {stats}");
        lab.Log(stopB);
        var diag = lab.Diagnostics(r, sent, stats, vnf, stopA, $"sender still running when B was ready: {senderRunningAtB}",
            stopB, "--- daemon A ---", a.Process.Describe(3000), "--- daemon B ---", b.Process.Describe(3000));

        ScenarioLab.AssertAllOk(r, $"restart ({stopA}) lost or damaged packets:\n{diag}");
        Assert.AreEqual(0, r.GetProperty("missing").GetInt32(), $"packets lost across the restart.\n{diag}");
        Assert.IsTrue(senderRunningAtB,
            $"the sender had finished before daemon B was ready, so B's link update did not happen under traffic (slow the pacing).\n{diag}");

        // Every frame sent is an MPLS packet xdp_rx pops (the VNF-dropped flow too), A's share
        // counted before B existed: only a surviving pinned counters map adds up to all of them.
        var counters = SfcProxyDaemon.ParseCounters(stats);
        Assert.IsNotNull(counters, $"daemon B answered stats without counters.\n{diag}");
        var popped = counters.GetValueOrDefault("rx_popped") + counters.GetValueOrDefault("rx_duplicate_key");
        Assert.IsGreaterThanOrEqualTo(o.PacketCount, popped,
            $"daemon B's rx_popped + rx_duplicate_key ({popped}) < packets sent ({o.PacketCount}): the counters did not survive the restart.\n{diag}");

        lab.AssertVnfSawTraffic(r, vnf, diag);
        Assert.AreEqual(0, b.Process.ExitCode, $"daemon B should exit 0 on SIGTERM: {stopB}\n{diag}");
        lab.AssertFullyDetached($"after daemon B's SIGTERM with DetachOnStop true.\n{diag}");
    }

    /// <summary>The instance's links are pinned and the devices run exactly the pinned links'
    /// programs (XDP on the ingress, tc_tx as the egress's only tcx program, meta_mark as the
    /// ingress's in metadata mode). Returns the prog_ids in <see cref="ScenarioLab.LinkPrograms"/> order.</summary>
    internal static uint[] AssertRunningFromPins(ScenarioLab lab, string context)
    {
        var ids = lab.LinkPrograms.Select(lab.LinkProgId).ToArray();
        var ingress = lab.IngressHooks();
        var egress = lab.EgressHooks();
        var detail = $"{context}\npinned: {Describe(lab, ids)}\n{BpfState.DescribePins(lab.Instance)}\ningress: {ingress}\negress: {egress}";
        Assert.AreEqual(ids[0], ingress.Xdp, $"the ingress XDP program is not the one of link_xdp_rx. {detail}");
        CollectionAssert.AreEqual(new[] { ids[1] }, egress.TcxEgress, $"the egress tcx programs are not exactly link_tc_tx's. {detail}");
        if (ids.Length > 2)
        {
            CollectionAssert.AreEqual(new[] { ids[2] }, ingress.TcxIngress, $"the ingress tcx programs are not exactly link_meta_mark's. {detail}");
        }
        return ids;
    }

    private static string Describe(ScenarioLab lab, uint[] ids) =>
        string.Join(", ", lab.LinkPrograms.Zip(ids, (p, id) => $"{p}={id.ToString(CultureInfo.InvariantCulture)}"));

    private static void SetGro(ScenarioLab lab, bool on) =>
        Cmd.Check("ethtool -K gro", "ip", ["netns", "exec", lab.Topo.ProxyNs, "ethtool", "-K", lab.Topo.ProxyIngress, "gro", on ? "on" : "off"],
            TimeSpan.FromSeconds(10));

    private static bool GroIsOn(ScenarioLab lab) =>
        Cmd.Check("ethtool -k", "ip", ["netns", "exec", lab.Topo.ProxyNs, "ethtool", "-k", lab.Topo.ProxyIngress], TimeSpan.FromSeconds(10))
            .StdOut.Contains("generic-receive-offload: on", StringComparison.Ordinal);
}
