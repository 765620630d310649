namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// SIGHUP is handled from the daemon's first moment: a storm of SIGHUPs while it loads, attaches and
/// opens its socket neither kills it nor runs a reload on a half-started instance; the reloads are
/// queued and applied once it is ready (coalesced, so a storm costs a few reloads, not hundreds), and
/// its stop still leaves nothing attached.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class StartupSignalTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void SighupStormDuringStart_DaemonSurvives_AppliesTheReloadOnceReady_StopsClean()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1), needBpftool: true);
        lab.SetIngressGro(on: true);
        var config = lab.WriteConfig(); // MissPolicy drop
        var daemon = lab.LaunchDaemon(config);
        // The daemon's first output line comes after its runtime started (the earliest moment a
        // process of any kind can have a handler); the storm starts there, so it hits the load and
        // the attach, and the socket's creation.
        var printed = DateTime.UtcNow.AddSeconds(30);
        while (daemon.StdOut.Length == 0 && !daemon.HasExited && DateTime.UtcNow < printed)
            Thread.Sleep(5);
        Assert.AreNotEqual(0, daemon.StdOut.Length, $"the daemon printed nothing within 30 s.\n{daemon.Describe()}");
        SfcProxyDaemon.EditConfig(config, p => p["MissPolicy"] = "pass");

        var signals = 0;
        var until = DateTime.MaxValue;
        while (DateTime.UtcNow < until && !daemon.HasExited)
        {
            if (daemon.Signal(Native.SIGHUP))
                signals++;
            if (until == DateTime.MaxValue && File.Exists(lab.SocketPath))
                until = DateTime.UtcNow.AddSeconds(1);
            Thread.Sleep(5);
        }
        lab.Log($"{signals} SIGHUPs sent during start");
        Assert.IsFalse(daemon.HasExited, $"the daemon died in a SIGHUP storm during start (exit {(daemon.HasExited ? daemon.ExitCode : 0)}).\n" +
            $"{daemon.Describe(4000)}\n{BpfState.DescribePins(lab.Instance)}");

        var deadline = DateTime.UtcNow.AddSeconds(15);
        string status;
        while (!(status = lab.WaitForStatus(daemon)).Contains("\"missPolicy\":\"pass\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            Thread.Sleep(200);
        StringAssert.Contains(status, "\"missPolicy\":\"pass\"", $"the reload queued during start was not applied:\n{daemon.Describe(4000)}");
        var reloads = daemon.StdOut.Split('\n').Count(l => l.Contains("Reloaded", StringComparison.Ordinal));
        lab.Log($"{reloads} reload(s) for {signals} SIGHUPs");
        Assert.IsGreaterThanOrEqualTo(1, reloads, daemon.Describe(4000));
        StringAssert.Contains(daemon.StdOut, "arrived during start-up", $"the SIGHUPs during start were not queued for after it:\n{daemon.Describe(4000)}");
        Assert.IsLessThan(signals / 4, reloads, $"a storm of SIGHUPs should cost a few reloads, not one each:\n{daemon.Describe(2000)}");

        Assert.IsTrue(daemon.Stop(TimeSpan.FromSeconds(15)), $"the daemon did not stop on SIGTERM.\n{daemon.Describe(4000)}");
        Assert.AreEqual(0, daemon.ExitCode, $"the daemon's stop after the storm failed.\n{daemon.Describe(4000)}");
        lab.AssertFullyDetached($"after the stop.\n{daemon.Describe(4000)}");
        Assert.IsTrue(lab.IngressGroIsOn(), "GRO is not back on after the stop");
    }
}
