namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// What the daemon-fault tests need beyond a normal run: daemons that are expected to refuse (started
/// without waiting for their socket), the ingress's GRO switch, the GRO note, and traffic paced to
/// outlast a restart.
/// </summary>
internal sealed partial class ScenarioLab
{
    /// <summary>Paced so traffic outlasts a restart attempt: at least 4 s on the wire for 8000 packets.</summary>
    public static readonly string[] Paced = ["--batch", "4", "--gap-ms", "2"];

    /// <summary>The daemon's GRO note: <c>&lt;socket dir&gt;/&lt;instance&gt;.gro</c>.</summary>
    public string GroNotePath => Path.Combine(Path.GetDirectoryName(SocketPath)!, Instance + ".gro");

    /// <summary>The note's text, or null when there is none.</summary>
    public string? GroNote() => File.Exists(GroNotePath) ? File.ReadAllText(GroNotePath) : null;

    /// <summary>Starts `sfcproxy run --config F` in the proxy namespace without waiting for anything
    /// (a daemon expected to refuse, or one raced against another). Dispose stops it.</summary>
    public LabProcess LaunchDaemon(string configPath) =>
        Track(Netns.StartNetworkOnly(Topo.ProxyNs, [.. LabEnvironment.DaemonCommand, "run", "--config", configPath]));

    /// <summary>Waits for a daemon expected to refuse: it must exit non-zero within the timeout.
    /// Returns its output.</summary>
    public string AssertRefused(LabProcess daemon, string what, double seconds = 30)
    {
        if (!daemon.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            Assert.Fail($"{what}: the daemon did not refuse (still running after {seconds} s).\n{daemon.Describe(4000)}\n{BpfState.DescribePins(Instance)}");
        }
        Log($"{what}: exit {daemon.ExitCode}: {daemon.StdErr.Trim()}");
        Assert.AreNotEqual(0, daemon.ExitCode, $"{what}: the daemon exited 0 instead of refusing.\n{daemon.Describe(4000)}");
        return daemon.StdOut + daemon.StdErr;
    }

    public void SetIngressGro(bool on) => SetGro(Topo.ProxyIngress, on);

    public bool IngressGroIsOn() => GroIsOn(Topo.ProxyIngress);

    public void SetGro(string device, bool on) =>
        Cmd.Check("ethtool -K gro", "ip", ["netns", "exec", Topo.ProxyNs, "ethtool", "-K", device, "gro", on ? "on" : "off"],
            TimeSpan.FromSeconds(10));

    public bool GroIsOn(string device) =>
        Cmd.Check("ethtool -k", "ip", ["netns", "exec", Topo.ProxyNs, "ethtool", "-k", device], TimeSpan.FromSeconds(10))
            .StdOut.Contains("generic-receive-offload: on", StringComparison.Ordinal);

    /// <summary>Runs a command in the proxy namespace; fails the test if it fails.</summary>
    public CmdResult InProxyNs(string what, params string[] cmd) =>
        Cmd.Check(what, "ip", ["netns", "exec", Topo.ProxyNs, .. cmd], TimeSpan.FromSeconds(15));

    /// <summary>`sfcproxy status --socket S --json` as root, the raw answer; exit code 0 when it answered ok.</summary>
    public CmdResult StatusAsRoot(string? socketPath = null) =>
        Netns.Exec(Topo.ProxyNs, TimeSpan.FromSeconds(20), [.. LabEnvironment.DaemonCommand, "status", "--socket", socketPath ?? SocketPath, "--json"]);

    /// <summary>Polls `sfcproxy status --json` until it answers ok; fails the test if
    /// <paramref name="daemon"/> exits first or nothing answers in time. Returns the answer.</summary>
    public string WaitForStatus(LabProcess daemon, double seconds = 30, string? socketPath = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        CmdResult last;
        do
        {
            if (daemon.HasExited)
                Assert.Fail($"the daemon exited (code {daemon.ExitCode}) before its socket answered.\n{daemon.Describe(4000)}");
            last = StatusAsRoot(socketPath);
            if (last.ExitCode == 0)
                return last.StdOut.Trim();
            Thread.Sleep(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"the daemon's socket did not answer status within {seconds} s: {last}\n{daemon.Describe(4000)}");
        return "";
    }
}
