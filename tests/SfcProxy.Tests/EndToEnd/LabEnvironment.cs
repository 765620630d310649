namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// Paths and preconditions of the end-to-end lab. Missing preconditions fail the test loudly
/// (never Inconclusive): an end-to-end test that silently does not run is worse than none.
/// </summary>
internal static class LabEnvironment
{
    /// <summary>The Debian interpreter with python3-scapy (a pyenv python on PATH may lack it).</summary>
    public const string Python = "/usr/bin/python3";

    public static string BinDir => AppContext.BaseDirectory;
    public static string ScriptDir => Path.Combine(BinDir, "e2e");
    public static string Topology => Path.Combine(ScriptDir, "topology.sh");
    public static string Traffic => Path.Combine(ScriptDir, "sfc_traffic.py");
    public static string Corpus => Path.Combine(ScriptDir, "corpus_traffic.py");
    public static string TunVnf => Path.Combine(ScriptDir, "tun_vnf.py");
    public static string Ping => Path.Combine(ScriptDir, "ping.py");
    public static string UdpProbe => Path.Combine(ScriptDir, "udp_probe.py");
    public static string BpfHooks => Path.Combine(ScriptDir, "bpf_hooks.py");
    public static string PolicyTcp => Path.Combine(ScriptDir, "policy_tcp.py");
    public static string DaemonDll => Path.Combine(BinDir, "sfcproxy.dll");

    /// <summary>
    /// The daemon command line prefix (`run --config F` / `stats --socket S --json` are appended):
    /// `dotnet sfcproxy.dll` next to the tests, or the executable named by SFCPROXY_E2E_DAEMON
    /// (e.g. a published/AOT build, or a stand-in while debugging the lab).
    /// </summary>
    public static string[] DaemonCommand
    {
        get
        {
            var exe = Environment.GetEnvironmentVariable("SFCPROXY_E2E_DAEMON");
            return string.IsNullOrEmpty(exe) ? [Dotnet, DaemonDll] : [exe];
        }
    }

    /// <summary>The dotnet muxer: `dotnet test` exports DOTNET_HOST_PATH; else the usual places.</summary>
    public static string Dotnet
    {
        get
        {
            var fromHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(fromHost) && File.Exists(fromHost))
            {
                return fromHost;
            }
            foreach (var c in new[] { "/usr/bin/dotnet", "/usr/share/dotnet/dotnet", "/usr/lib/dotnet/dotnet" })
            {
                if (File.Exists(c))
                {
                    return c;
                }
            }
            return "dotnet";
        }
    }

    /// <summary>A short unique lab name ([a-z0-9], 6 chars) so interface names stay <= 15 chars.</summary>
    public static string NewName() => "sf" + Convert.ToHexString(Guid.NewGuid().ToByteArray()[..2]).ToLowerInvariant();

    /// <param name="needTun">the user-mode VNF's /dev/net/tun.</param>
    /// <param name="needBpftool">bpftool (pinned links' prog_id) and the host bpffs, for the tests
    /// that look at pins and attached programs.</param>
    /// <param name="needBurst">taskset and chrt (`topology.sh burst`: the ingress NAPI thread pinned
    /// and SCHED_FIFO).</param>
    public static void RequirePreconditions(bool needTun, bool needBpftool = false, bool needBurst = false)
    {
        var missing = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            missing.Add("Linux (network namespaces, XDP, tc)");
        }
        else if (!Native.IsRoot)
        {
            missing.Add("root (the lab creates network namespaces and loads BPF programs): run `sudo dotnet test`");
        }
        foreach (var f in new[] { Topology, Traffic, Corpus, TunVnf, Ping, UdpProbe, BpfHooks, PolicyTcp })
        {
            if (!File.Exists(f))
            {
                missing.Add($"lab script {f} (tests/e2e/** should be copied next to the test binary)");
            }
        }
        var daemonExe = Environment.GetEnvironmentVariable("SFCPROXY_E2E_DAEMON");
        if (!string.IsNullOrEmpty(daemonExe))
        {
            if (!File.Exists(daemonExe))
            {
                missing.Add($"daemon SFCPROXY_E2E_DAEMON={daemonExe}");
            }
        }
        else if (!File.Exists(DaemonDll))
        {
            missing.Add($"daemon {DaemonDll} (the test project references SfcProxy.csproj)");
        }
        if (!File.Exists(Python))
        {
            missing.Add($"{Python} (apt-get install python3 python3-scapy)");
        }
        else
        {
            var r = Cmd.Run(Python, ["-c", "import scapy.contrib.mpls, scapy.contrib.nsh, scapy.layers.inet6"], TimeSpan.FromSeconds(30));
            if (r.ExitCode != 0)
            {
                missing.Add($"scapy for {Python} (apt-get install python3-scapy): {r.StdErr.Trim()}");
            }
        }
        foreach (var tool in new[] { "ip", "iptables", "ip6tables", "ethtool" })
        {
            if (!OnPath(tool))
            {
                missing.Add($"`{tool}` on PATH");
            }
        }
        if (needBpftool && !OnPath("bpftool"))
        {
            missing.Add("`bpftool` on PATH (apt-get install bpftool)");
        }
        if (needBpftool && !Directory.Exists("/sys/fs/bpf"))
        {
            missing.Add("bpffs mounted on /sys/fs/bpf");
        }
        foreach (var tool in needBurst ? new[] { "taskset", "chrt" } : [])
        {
            if (!OnPath(tool))
            {
                missing.Add($"`{tool}` on PATH (util-linux)");
            }
        }
        if (needTun && !File.Exists("/dev/net/tun"))
        {
            missing.Add("/dev/net/tun (user-mode VNF)");
        }
        if (missing.Count > 0)
        {
            Assert.Fail("End-to-end lab preconditions not met:\n - " + string.Join("\n - ", missing));
        }
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Any(d => File.Exists(Path.Combine(d, tool)));
}
