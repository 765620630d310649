using System.Text.Json;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// SIGHUP re-reads the config file: MissPolicy, StaticStack, ConsumedSegments, Encapsulations,
/// Nsh:NextHopMac, Cache:MaxAge and LogLevel apply live without re-attaching anything; fields that
/// need a restart (KeyMode, Interfaces, ...) are reported and ignored; an invalid file is reported
/// and the running config stays. Checked through `sfcproxy status --json`, the programs attached to
/// the devices (same prog ids before and after) and the datapath itself: plain IPv4 from the sender
/// to the receiver is a miss at tc_tx, dropped under MissPolicy drop and passed under pass (IPv4
/// because ARP always passes; the replies come back through the ingress, where nothing drops them).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ReloadTests
{
    private const string Receiver4 = "198.18.2.1";
    private static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(5);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Sighup_AppliesLiveFields_RejectsInvalidFile_ReportsRestartOnlyFields()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1), needBpftool: true);
        lab.PingPlainIp();
        var config = lab.WriteConfig(); // MissPolicy drop, ConsumedSegments 1, LogLevel default
        var daemon = lab.StartDaemon(config);
        var pid = daemon.Process.Pid;

        var st = daemon.Status();
        Assert.AreEqual("drop", SfcProxyDaemon.StatusText(st, "missPolicy"), $"status at start: {st}");
        Assert.AreEqual("1", SfcProxyDaemon.StatusText(st, "consumedSegments"), $"status at start: {st}");
        Assert.AreEqual("metadata", SfcProxyDaemon.StatusText(st, "keyMode"), $"status at start: {st}");
        var hooksBefore = Hooks(lab);

        var ping = lab.PingFromSender(Receiver4);
        Assert.AreNotEqual(0, ping.ExitCode,
            $"plain IPv4 crossed the proxy under MissPolicy drop (tc_tx should drop the miss):\n{ping}\n{daemon.Stats(lab.Topo)}");

        // 1. Live fields.
        var mark = daemon.Process.Mark();
        SfcProxyDaemon.EditConfig(config, p =>
        {
            p["MissPolicy"] = "pass";
            p["ConsumedSegments"] = 2;
            p["LogLevel"] = "Debug";
        });
        daemon.Reload();
        st = daemon.WaitForStatus(s => SfcProxyDaemon.StatusText(s, "missPolicy") == "pass", ApplyTimeout,
            "MissPolicy pass after SIGHUP");
        lab.Log($"after reload: {st}");
        Assert.AreEqual("2", SfcProxyDaemon.StatusText(st, "consumedSegments"), $"ConsumedSegments not applied by SIGHUP: {st}\n{daemon.Process.OutputSince(mark)}");
        Assert.AreEqual("Debug", SfcProxyDaemon.StatusText(st, "logLevel"), $"LogLevel not applied by SIGHUP: {st}\n{daemon.Process.OutputSince(mark)}");
        Assert.AreEqual(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), SfcProxyDaemon.StatusText(st, "pid"),
            $"another process answers: the daemon restarted instead of reloading: {st}");
        Assert.AreEqual(hooksBefore, Hooks(lab), "the programs on the devices changed: SIGHUP re-attached instead of updating the config map");

        ping = lab.PingFromSender(Receiver4);
        Assert.AreEqual(0, ping.ExitCode,
            $"plain IPv4 still does not cross the proxy after the reload to MissPolicy pass:\n{ping}\n{daemon.Stats(lab.Topo)}");

        // 2. An invalid file: reported by field, nothing changes.
        mark = daemon.Process.Mark();
        SfcProxyDaemon.EditConfig(config, p => p["MissPolicy"] = "bogus");
        daemon.Reload();
        var said = daemon.Process.WaitForOutput("SfcProxy:MissPolicy", mark, ApplyTimeout);
        Assert.IsNotNull(said, $"an invalid MissPolicy on SIGHUP was not reported naming SfcProxy:MissPolicy.\n{daemon.Process.Describe(4000)}");
        lab.Log($"invalid reload reported: {said.Trim()}");
        Assert.IsFalse(daemon.Process.HasExited, $"an invalid config on SIGHUP stopped the daemon.\n{daemon.Process.Describe(4000)}");
        st = daemon.Status();
        Assert.AreEqual("pass", SfcProxyDaemon.StatusText(st, "missPolicy"), $"an invalid file changed the running config: {st}");
        Assert.AreEqual("2", SfcProxyDaemon.StatusText(st, "consumedSegments"), $"an invalid file changed the running config: {st}");
        Assert.AreEqual("Debug", SfcProxyDaemon.StatusText(st, "logLevel"), $"an invalid file changed the running config: {st}");

        // 3. A field that needs a restart: reported, ignored.
        mark = daemon.Process.Mark();
        SfcProxyDaemon.EditConfig(config, p =>
        {
            p["MissPolicy"] = "pass";
            p["KeyMode"] = "header-hash";
        });
        daemon.Reload();
        said = daemon.Process.WaitForOutput("KeyMode", mark, ApplyTimeout);
        Assert.IsNotNull(said, $"a KeyMode change on SIGHUP was not reported.\n{daemon.Process.Describe(4000)}");
        lab.Log($"restart-only change reported: {said.Trim()}");
        StringAssert.Contains(said, "restart", StringComparison.OrdinalIgnoreCase,
            $"the KeyMode change should be reported as needing a restart: {said}");
        st = daemon.Status();
        Assert.AreEqual("metadata", SfcProxyDaemon.StatusText(st, "keyMode"), $"KeyMode changed without a restart: {st}");
        Assert.AreEqual("pass", SfcProxyDaemon.StatusText(st, "missPolicy"), $"status after the restart-only change: {st}");
        Assert.AreEqual(hooksBefore, Hooks(lab), "the programs on the devices changed after a restart-only change");

        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM after reloads: {stop}\n{daemon.Process.Describe(4000)}");
    }

    /// <summary>The program ids on the devices (XDP, tcx ingress/egress), comparable with ==.</summary>
    private static string Hooks(ScenarioLab lab)
    {
        var i = lab.IngressHooks();
        var e = lab.EgressHooks();
        var s = $"ingress xdp {i.Xdp} tcx [{string.Join(',', i.TcxIngress)}], egress tcx [{string.Join(',', e.TcxEgress)}]";
        Assert.AreNotEqual(0u, i.Xdp, $"no XDP program on the ingress: {s}");
        return s;
    }
}
