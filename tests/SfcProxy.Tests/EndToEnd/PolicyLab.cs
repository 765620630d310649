using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The lab of the policy tests: three endpoints on one L2 segment, a bridge in a fourth namespace
/// (the switch) where the daemon runs and enforces the policy at tc ingress and egress of all three bridge
/// ports, so every packet crossing the switch is judged on entering and on leaving it.
/// <code>
///  NAME-a  eth0 198.18.30.1 2001:2:30::1 ── NAMEa ┐
///  NAME-b  eth0 198.18.30.3 2001:2:30::3 ── NAMEb ├ NAMEbr (bridge, in NAME-sw: sfcproxy + policy_tc)
///  NAME-s  eth0 198.18.30.2 2001:2:30::2 ── NAMEs ┘
/// </code>
/// The server namespace runs tests/e2e/policy_tcp.py serve (TCP echo on 5201 and 5202). The
/// daemon's own SFC proxy fields point at NAMEs with MissPolicy pass (ordinary traffic leaves
/// through tc_tx untouched). Dispose stops every process, removes the pins
/// (/sys/fs/bpf/sfcproxy/NAME and NAME-policy), the namespaces and the temporary files.
/// </summary>
internal sealed class PolicyLab : IDisposable
{
    public const int AllowedPort = 5201, OtherPort = 5202;
    public const string A4 = "198.18.30.1", S4 = "198.18.30.2", B4 = "198.18.30.3";
    public const string A6 = "2001:2:30::1", S6 = "2001:2:30::2", B6 = "2001:2:30::3";

    private readonly TestContext _ctx;
    private readonly List<LabProcess> _processes = [];
    private readonly List<SfcProxyDaemon> _daemons = [];

    private PolicyLab(TestContext ctx, string name, string tmp)
    {
        _ctx = ctx;
        Name = name;
        Tmp = tmp;
        SocketPath = $"/tmp/{name}.sock";
        PolicyPath = Path.Combine(tmp, "policy.yaml");
        ConfigPath = Path.Combine(tmp, "sfcproxy.json");
        TriggerDir = Directory.CreateDirectory(Path.Combine(tmp, "triggers")).FullName;
    }

    /// <summary>Lab name: namespace prefix and sfcproxy instance.</summary>
    public string Name { get; }
    public string Tmp { get; }
    public string SocketPath { get; }
    public string PolicyPath { get; }
    public string ConfigPath { get; }
    public string TriggerDir { get; }

    public string ClientA => Name + "-a";
    public string ClientB => Name + "-b";
    public string Server => Name + "-s";
    public string Switch => Name + "-sw";

    /// <summary>The switch's bridge ports (host side of each endpoint's veth), where policy_tc runs.</summary>
    public string PortA => Name + "a";
    public string PortB => Name + "b";
    public string PortS => Name + "s";
    public IReadOnlyList<string> Ports => [PortA, PortB, PortS];

    /// <summary>Where the daemon runs: the switch (policy on the three bridge ports) or the server
    /// itself (policy on the server's own eth0, the interface its traffic enters and leaves by).</summary>
    public enum Placement { Switch, ServerHost }

    /// <summary>Set by <see cref="WriteConfig"/>.</summary>
    public Placement DaemonPlacement { get; private set; } = Placement.Switch;

    /// <summary>The namespace the daemon runs in.</summary>
    public string DaemonNs => DaemonPlacement == Placement.Switch ? Switch : Server;

    /// <summary>The interfaces policy_tc runs on, in <see cref="DaemonNs"/>.</summary>
    public IReadOnlyList<string> PolicyInterfaces => DaemonPlacement == Placement.Switch ? Ports : ["eth0"];

    public string Instance => Name;
    public IReadOnlyList<string> PinDirs => [BpfState.PinDir(Instance), BpfState.PinDir(Instance + "-policy")];

    public void Log(string msg) => _ctx.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {msg}");

    /// <summary>Preconditions, namespaces, veths, bridge, addresses; with <paramref name="echoServers"/>
    /// the echo server in the server namespace (5201, 5202) and in client-a (5201, for server -> a).</summary>
    public static PolicyLab Up(TestContext ctx, bool echoServers = true)
    {
        LabEnvironment.RequirePreconditions(needTun: false, needBpftool: true);
        var name = LabEnvironment.NewName();
        var tmp = Directory.CreateTempSubdirectory($"sfcproxy-pol-{name}-").FullName;
        var lab = new PolicyLab(ctx, name, tmp);
        lab.Log($"policy lab {name}, tmp {tmp}");
        try
        {
            lab.BuildTopology();
            if (echoServers)
            {
                lab.StartEchoServer(lab.Server, AllowedPort, OtherPort);
                lab.StartEchoServer(lab.ClientA, AllowedPort);
            }
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    private void Ip(params string[] args) => Cmd.Check("ip " + string.Join(' ', args), "ip", args, TimeSpan.FromSeconds(15));

    private void BuildTopology()
    {
        foreach (var ns in new[] { ClientA, ClientB, Server, Switch })
        {
            Ip("netns", "add", ns);
            Ip("-n", ns, "link", "set", "lo", "up");
        }
        Ip("-n", Switch, "link", "add", Name + "br", "type", "bridge");
        Ip("-n", Switch, "link", "set", Name + "br", "up");
        foreach (var (ns, port, v4, v6) in new[] { (ClientA, PortA, A4, A6), (ClientB, PortB, B4, B6), (Server, PortS, S4, S6) })
        {
            Ip("-n", Switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
            Ip("-n", Switch, "link", "set", port, "master", Name + "br", "up");
            Ip("-n", ns, "addr", "add", v4 + "/24", "dev", "eth0");
            Ip("-n", ns, "addr", "add", v6 + "/64", "dev", "eth0", "nodad");
            Ip("-n", ns, "link", "set", "eth0", "up");
        }
    }

    private void StartEchoServer(string ns, params int[] ports)
    {
        var p = Track(Netns.Start(ns, LabEnvironment.Python, LabEnvironment.PolicyTcp, "serve", "--ports",
            string.Join(',', ports.Select(x => x.ToString(CultureInfo.InvariantCulture)))));
        p.WaitForLine("READY", TimeSpan.FromSeconds(10), $"echo server in {ns}");
    }

    public LabProcess Track(LabProcess p)
    {
        _processes.Add(p);
        return p;
    }

    /// <summary>The lab's policy: endpoints client-a {app: a}, client-b {app: b}, server {app: server}
    /// (a /32 and a /128 each) and the given rules, as YAML.</summary>
    public static string PolicyYaml(params string[] rules) =>
        $$"""
        endpoints:
          - name: client-a
            cidrs: ["{{A4}}/32", "{{A6}}/128"]
            labels: {app: a}
          - name: client-b
            cidrs: ["{{B4}}/32", "{{B6}}/128"]
            labels: {app: b}
          - name: server
            cidrs: ["{{S4}}/32", "{{S6}}/128"]
            labels: {app: server}
        rules:
        {{string.Concat(rules)}}
        """;

    /// <summary>One rule of <see cref="PolicyYaml"/>: from app=<paramref name="from"/> to
    /// app=<paramref name="to"/>, <paramref name="protocol"/>/<paramref name="port"/> (the port as
    /// written, so tests can write a wrong one).</summary>
    public static string Rule(string name, string from, string to, string protocol, string port) =>
        $$"""
          - name: {{name}}
            from:
              matchLabels: {app: {{from}}}
            to:
              matchLabels: {app: {{to}}}
            ports:
              - {protocol: {{protocol}}, port: {{port}}}

        """;

    public static readonly string RuleA = Rule("a-to-server-5201", "a", "server", "tcp", "5201");
    public static readonly string RuleB = Rule("b-to-server-5201", "b", "server", "tcp", "5201");

    /// <summary>Writes the policy file (temporary file + rename: a reader never sees half a file).</summary>
    public void WritePolicy(string yaml)
    {
        var tmp = PolicyPath + ".new";
        File.WriteAllText(tmp, yaml);
        File.Move(tmp, PolicyPath, overwrite: true);
    }

    /// <summary>The daemon's config: SFC proxy on the server port (or the server's eth0) with
    /// MissPolicy pass, the policy file enforced on all three bridge ports (or the server's eth0).</summary>
    public string WriteConfig(Placement placement = Placement.Switch)
    {
        DaemonPlacement = placement;
        var proxyIf = placement == Placement.Switch ? PortS : "eth0";
        var config = new JsonObject
        {
            ["SfcProxy"] = new JsonObject
            {
                ["Instance"] = Instance,
                ["Interfaces"] = new JsonObject { ["Ingress"] = proxyIf, ["Egress"] = proxyIf },
                ["MissPolicy"] = "pass",
                ["Socket"] = new JsonObject { ["Path"] = SocketPath },
                ["Policy"] = new JsonObject
                {
                    ["Files"] = new JsonArray(PolicyPath),
                    ["Interfaces"] = new JsonArray([.. PolicyInterfaces.Select(p => JsonValue.Create(p))]),
                },
            },
        };
        File.WriteAllText(ConfigPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return ConfigPath;
    }

    public SfcProxyDaemon StartDaemon()
    {
        var d = SfcProxyDaemon.Start(DaemonNs, ConfigPath, SocketPath, TimeSpan.FromSeconds(30));
        _daemons.Add(d);
        Log($"sfcproxy ready (pid {d.Process.Pid})");
        return d;
    }

    /// <summary>The daemon process alone (no wait for the socket): for a start that must fail.</summary>
    public LabProcess StartDaemonProcess() =>
        Track(Netns.StartNetworkOnly(DaemonNs, [.. LabEnvironment.DaemonCommand, "run", "--config", ConfigPath]));

    public sealed record Attempt(string From, string Dst, int Port, bool Echoed, string Detail)
    {
        public override string ToString() => $"{From} -> [{Dst}]:{Port}: {(Echoed ? "echoed" : "no echo")} {Detail}";
    }

    /// <summary>One TCP connect + echo (policy_tcp.py connect) from namespace <paramref name="ns"/>.</summary>
    public Attempt Connect(string ns, string dst, int port, double timeoutSeconds = 2)
    {
        var r = Netns.Exec(ns, TimeSpan.FromSeconds(timeoutSeconds * 2 + 10), LabEnvironment.Python, LabEnvironment.PolicyTcp,
            "connect", "--dst", dst, "--port", port.ToString(CultureInfo.InvariantCulture),
            "--timeout", timeoutSeconds.ToString(CultureInfo.InvariantCulture));
        if (r.ExitCode is not (0 or 1))
        {
            Assert.Fail($"policy_tcp.py connect from {ns} to [{dst}]:{port} failed to run:\n{r}");
        }
        return new Attempt(ns, dst, port, r.ExitCode == 0, r.StdOut.Trim() + r.StdErr.Trim());
    }

    /// <summary>Several connects at once (the denied ones each wait out their timeout). Each on its own
    /// thread (LongRunning), not the pool's: they block, and the pool threads are needed to read
    /// their output.</summary>
    public Attempt[] ConnectAll(params (string Ns, string Dst, int Port)[] attempts) =>
        Task.WhenAll(attempts.Select(a => Task.Factory.StartNew(() => Connect(a.Ns, a.Dst, a.Port),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))).GetAwaiter().GetResult();

    /// <summary>Asserts which attempts echoed: <paramref name="expected"/>[i] for attempt i.</summary>
    public void AssertReachability(string context, SfcProxyDaemon? daemon, params (string Ns, string Dst, int Port, bool Allowed)[] expected)
    {
        var got = ConnectAll([.. expected.Select(e => (e.Ns, e.Dst, e.Port))]);
        foreach (var g in got)
        {
            Log($"{context}: {g}");
        }
        var wrong = expected.Zip(got).Where(p => p.First.Allowed != p.Second.Echoed).ToList();
        if (wrong.Count > 0)
        {
            Assert.Fail($"{context}: " + string.Join("; ", wrong.Select(w =>
                    $"{w.Second.From} -> [{w.Second.Dst}]:{w.Second.Port} should be {(w.First.Allowed ? "allowed (connect + echo)" : "denied (no connection)")}, got {w.Second}")) +
                (daemon is null ? "" : $"\npolicy ls: {daemon.Cli("policy", "ls", "--json").StdOut}\n{daemon.Process.Describe(3000)}"));
        }
    }

    /// <summary>`sfcproxy policy check --json` against the daemon: the "check" object.</summary>
    public static JsonElement Check(SfcProxyDaemon daemon, string src, string dst, int port, string proto = "tcp")
    {
        var r = daemon.Cli("policy", "check", "--src", src, "--dst", dst, "--proto", proto,
            "--port", port.ToString(CultureInfo.InvariantCulture), "--json");
        if (r.ExitCode != 0)
        {
            Assert.Fail($"sfcproxy policy check --src {src} --dst {dst} --proto {proto} --port {port} failed:\n{r}");
        }
        using var doc = JsonDocument.Parse(r.StdOut);
        return doc.RootElement.GetProperty("check").Clone();
    }

    /// <summary>Asserts the datapath's verdict (and rule name for "rule").</summary>
    public static void AssertCheck(SfcProxyDaemon daemon, string src, string dst, int port, string verdict, string? rule = null)
    {
        var c = Check(daemon, src, dst, port);
        var what = $"policy check {src} -> {dst} tcp/{port}: {c}";
        Assert.AreEqual("datapath", c.GetProperty("answeredBy").GetString(), what);
        Assert.AreEqual(verdict, c.GetProperty("verdict").GetString(), what);
        Assert.AreEqual(verdict != "default-deny", c.GetProperty("allowed").GetBoolean(), what);
        if (rule is not null)
        {
            Assert.AreEqual(rule, c.TryGetProperty("rule", out var r) ? r.GetString() : null, what);
        }
        else
        {
            Assert.IsFalse(c.TryGetProperty("rule", out _), $"no rule expected: {what}");
        }
    }

    /// <summary>`sfcproxy policy ls --json`: rule name -> hits.</summary>
    public static Dictionary<string, ulong> RuleHits(SfcProxyDaemon daemon)
    {
        var r = daemon.Cli("policy", "ls", "--json");
        if (r.ExitCode != 0)
        {
            Assert.Fail($"sfcproxy policy ls --json failed:\n{r}");
        }
        using var doc = JsonDocument.Parse(r.StdOut);
        return doc.RootElement.GetProperty("policy").GetProperty("rules").EnumerateArray()
            .ToDictionary(x => x.GetProperty("name").GetString()!, x => x.GetProperty("hits").GetUInt64());
    }

    /// <summary>The policy datapath's counters (<see cref="BpfState.PolicyCounters"/>).</summary>
    public ulong PolicyCounter(BpfState.PolicyCounter c) =>
        BpfState.PolicyCounters(Instance).GetValueOrDefault((int)c);

    /// <summary>What each policy interface (bridge port, or the server's eth0) runs (XDP, tcx).</summary>
    public IReadOnlyList<DeviceHooks> PortHooks() => [.. PolicyInterfaces.Select(p => BpfState.Hooks(DaemonNs, p))];

    /// <summary>Nothing of the instance is left: no pin directory (proxy or policy), no XDP and no
    /// tcx program on any bridge port.</summary>
    public void AssertNothingAttached(string context)
    {
        var hooks = PortHooks();
        var detail = $"{context}\n{string.Join('\n', hooks)}\n{string.Join('\n', PinDirs.Select(d => BpfState.DescribePins(Path.GetFileName(d))))}";
        foreach (var dir in PinDirs)
        {
            Assert.IsFalse(Directory.Exists(dir), $"the pin directory {dir} is there. {detail}");
        }
        foreach (var h in hooks)
        {
            Assert.IsTrue(h.Empty, $"{h.Device} still runs BPF programs. {detail}");
        }
    }

    /// <summary>Creates the trigger file of a held connection's probe (policy_tcp.py hold), with the
    /// seconds it may wait for the echo.</summary>
    public void Trigger(string probe, double timeoutSeconds) =>
        File.WriteAllText(Path.Combine(TriggerDir, probe), timeoutSeconds.ToString(CultureInfo.InvariantCulture));

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            p.Dispose();
        }
        foreach (var d in _daemons)
        {
            d.Dispose();
        }
        if (PinDirs.Any(Directory.Exists))
        {
            // A daemon killed or a failed test: detach the proxy instance, then remove what is left.
            var r = Netns.ExecNetworkOnly(DaemonNs, TimeSpan.FromSeconds(30), [.. LabEnvironment.DaemonCommand, "detach", "--instance", Instance]);
            Log($"cleanup: sfcproxy detach --instance {Instance}: exit {r.ExitCode} {r.StdOut.Trim()} {r.StdErr.Trim()}");
        }
        foreach (var dir in PinDirs)
        {
            try
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            catch (IOException e)
            {
                Log($"cleanup: could not remove {dir}: {e.Message}");
            }
        }
        foreach (var ns in new[] { ClientA, ClientB, Server, Switch })
        {
            Cmd.Run("ip", ["netns", "del", ns], TimeSpan.FromSeconds(15));
        }
        try
        {
            Directory.Delete(Tmp, recursive: true);
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
    }
}
