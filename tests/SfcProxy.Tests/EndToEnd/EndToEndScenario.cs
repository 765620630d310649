using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>What one end-to-end run sends and how the proxy is configured.</summary>
/// <param name="KeyMode">Config KeyMode: metadata | header-hash.</param>
/// <param name="UserVnf">true: user-mode TUN VNF (tun_vnf.py); false: kernel forwarding + iptables.</param>
/// <param name="IpHops">IP TTL decrements the VNF causes (kernel 1, TUN 2).</param>
internal sealed record ScenarioOptions(string KeyMode, bool UserVnf, int IpHops)
{
    /// <summary>sfc_traffic.py --encap: mpls | nsh | srv6 | mixed (MPLS, NSH) | all (MPLS, NSH, SRv6).</summary>
    public string Encap { get; init; } = "mpls";

    /// <summary>Config Encapsulations; null leaves the field out (the daemon's default, MPLS).</summary>
    public IReadOnlyList<string>? Encapsulations { get; init; }

    /// <summary>Set Nsh:NextHopMac to the receiver's MAC (outer dst of restored NSH-over-Ethernet
    /// frames carrying Ethernet); the receiver checks it.</summary>
    public bool NshNextHopIsReceiver { get; init; }

    /// <summary>Further generator options (identical for send and recv).</summary>
    public IReadOnlyList<string> GeneratorArgs { get; init; } = [];

    /// <summary>The VNF in its own namespace behind the proxy (topology.sh --sidecar-vnf; the daemon
    /// gets Interfaces:Vnf and redirects popped packets there). Needs <see cref="UserVnf"/> false.</summary>
    public bool SidecarVnf { get; init; }

    public int PacketCount { get; init; } = 1200;
    public int Flows { get; init; } = 8;

    /// <summary>The traffic script in tests/e2e: sfc_traffic.py (seeded flows), or corpus_traffic.py
    /// (the real-traffic corpus); both take the same generator and receiver options.</summary>
    public string Traffic { get; init; } = "sfc_traffic.py";

    /// <summary>Further `topology.sh up` options (e.g. --stateful-vnf, --egress-mtu 1400).</summary>
    public IReadOnlyList<string> TopologyArgs { get; init; } = [];

    /// <summary>Set: once the daemon has attached, `topology.sh burst NAME CPU` (the ingress NAPI
    /// threaded, pinned to CPU, SCHED_FIFO) and the sender runs there as SCHED_FIFO
    /// (--burst-cpu): each burst of the corpus is popped whole before the VNF sees any of it.</summary>
    public int? BurstCpu { get; init; }

    public double ReceiverTimeoutSeconds { get; init; } = 20;

    /// <summary>Also take `sfcproxy stats` (the table) and `sfcproxy metrics` before the daemon stops.</summary>
    public bool CaptureCliViews { get; init; }
}

/// <summary>What a finished run hands to the test's own assertions.</summary>
internal sealed class ScenarioOutcome
{
    public required JsonElement Receiver { get; init; }

    /// <summary>`sfcproxy stats --json` taken after the traffic, before the daemon stopped.</summary>
    public required string Stats { get; init; }

    /// <summary>Everything worth printing when an assertion fails.</summary>
    public required string Diagnostics { get; init; }

    /// <summary>Sidecar layout: frames the proxy's XDP redirected into the VNF's veth (`ethtool -S`
    /// tx_queue_*_xdp_xmit of Interfaces:Vnf); null otherwise.</summary>
    public long? RedirectedToVnf { get; init; }

    /// <summary>`sfcproxy stats` (the table) and `sfcproxy metrics` (Prometheus text), with
    /// <see cref="ScenarioOptions.CaptureCliViews"/>; null otherwise.</summary>
    public string? StatsTable { get; init; }
    public string? Metrics { get; init; }

    public int ReceiverInt(string key) => Receiver.GetProperty(key).GetInt32();

    /// <summary>A datapath counter from the stats answer ({"ok":true,"counters":{name:n}}); null when
    /// the answer has no such counter (or is not JSON: stats failed).</summary>
    public long? Counter(string name) =>
        SfcProxyDaemon.ParseCounters(Stats) is { } c && c.TryGetValue(name, out var v) ? v : null;
}

/// <summary>
/// One end-to-end run: lab up, (TUN VNF), plain-IP sanity ping, sfcproxy daemon with the scenario's
/// config, receiver (sfc_traffic.py recv) and sender (send) with one seeded generator, daemon
/// stats, daemon stop, VNF counters, then the assertions every scenario shares: every packet ok
/// (all_ok), the scenario's own checks (<paramref name="verify"/> of <see cref="Run"/>), the VNF
/// really saw the traffic, the daemon exited 0 on SIGTERM. Tears everything down.
/// The pieces are <see cref="ScenarioLab"/>'s, for tests that need another sequence (restarts).
/// Needs root, /usr/bin/python3 with scapy, iproute2, iptables, ethtool (fails loudly otherwise).
/// </summary>
internal static class EndToEndScenario
{
    public static void Run(TestContext testContext, ScenarioOptions o, Action<ScenarioOutcome>? verify = null)
    {
        using var lab = ScenarioLab.Up(testContext, o);
        lab.PingPlainIp();

        var daemon = lab.StartDaemon(lab.WriteConfig());
        lab.Log($"sfcproxy ready (pid {daemon.Process.Pid})");
        lab.SetUpBursts();

        var receiver = lab.StartReceiver(timeoutSeconds: o.ReceiverTimeoutSeconds);
        var send = lab.Send();
        var r = lab.WaitForResult(receiver);

        var stats = daemon.Stats(lab.Topo);
        string? statsTable = null, metrics = null;
        if (o.CaptureCliViews)
        {
            statsTable = daemon.Cli("stats").ToString();
            metrics = daemon.Cli("metrics").ToString();
        }
        var redirected = o.SidecarVnf ? lab.RedirectedToVnf() : (long?)null;
        var vnfCounters = lab.VnfCounters();
        var stopInfo = daemon.Stop(TimeSpan.FromSeconds(15));
        var daemonExit = daemon.Process.ExitCode;
        lab.Log($"daemon stats: {stats}");
        lab.Log($"VNF: {vnfCounters}");
        lab.Log(stopInfo);

        var diagnostics = lab.Diagnostics(r, send.StdOut, stats, vnfCounters, stopInfo, daemon.Process.Describe(3000));
        ScenarioLab.AssertAllOk(r, diagnostics);
        verify?.Invoke(new ScenarioOutcome
        {
            Receiver = r,
            Stats = stats,
            Diagnostics = diagnostics,
            RedirectedToVnf = redirected,
            StatsTable = statsTable,
            Metrics = metrics,
        });
        lab.AssertVnfSawTraffic(r, vnfCounters, diagnostics);
        Assert.AreEqual(0, daemonExit, $"sfcproxy should exit 0 on SIGTERM: {stopInfo}\n{diagnostics}");
    }

    internal static string Summary(JsonElement r) =>
        string.Join(", ", new[] { "expected", "expected_dropped", "expected_expired", "received", "ok", "ok_mpls", "ok_nsh", "ok_srv6",
                "missing", "wrong_stack", "wrong_nsh", "wrong_srv6", "wrong_eth", "wrong_ip", "wrong_payload", "wrong_headers", "swapped",
                "datagrams_bad", "duplicates", "unexpected", "leaked" }
            .Where(k => r.TryGetProperty(k, out _))
            .Select(k => $"{k}={r.GetProperty(k).GetInt32()}"));

    /// <summary>The corpus receiver's per-shape result ("shapes": {name: {sent, ok, bad}}) as one
    /// line, shapes with bad packets first; "" for receivers without it.</summary>
    internal static string ShapeSummary(JsonElement r) =>
        r.TryGetProperty("shapes", out var shapes) && shapes.ValueKind == JsonValueKind.Object
            ? "per shape (ok/sent): " + string.Join(", ", shapes.EnumerateObject()
                .OrderByDescending(s => s.Value.GetProperty("bad").GetInt32())
                .Select(s => $"{s.Name} {s.Value.GetProperty("ok").GetInt32()}/{s.Value.GetProperty("sent").GetInt32()}")) + "\n"
            : "";

    /// <summary>The kernel VNF's iptables chain SFCVNF: in the proxy namespace, or in the VNF's own
    /// namespace in the sidecar layout.</summary>
    internal static string IptablesCounters(LabTopology topo)
    {
        var sb = new StringBuilder();
        foreach (var tool in new[] { "iptables", "ip6tables" })
        {
            var r = topo.Exec(topo.VnfNs ?? topo.ProxyNs, TimeSpan.FromSeconds(10), tool, "-L", "SFCVNF", "-v", "-x", "-n");
            sb.AppendLine(CultureInfo.InvariantCulture, $"# {tool}").Append(r.ExitCode == 0 ? r.StdOut : r.ToString());
        }
        return sb.ToString();
    }

    /// <summary>Sums the pkts column of ACCEPT and DROP rows of `iptables -L SFCVNF -v -x -n`.</summary>
    internal static (long Accepted, long Dropped) ParseIptables(string text)
    {
        long acc = 0, drop = 0;
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 3 || !long.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pkts))
            {
                continue;
            }
            if (f[2] == "ACCEPT")
            {
                acc += pkts;
            }
            else if (f[2] == "DROP")
            {
                drop += pkts;
            }
        }
        return (acc, drop);
    }
}

/// <summary>
/// The lab of one scenario and its processes, as building blocks: <see cref="EndToEndScenario.Run"/>
/// strings them together once; restart and reload tests use them in their own order (several
/// daemons, a sender in the background). Dispose kills whatever still runs, detaches an instance
/// left attached (`sfcproxy detach`, then removes its pin directory whatever detach did), tears
/// the lab down and removes the temporary files.
/// </summary>
internal sealed partial class ScenarioLab : IDisposable
{
    private readonly TestContext _ctx;
    private readonly List<LabProcess> _processes = [];
    private readonly List<SfcProxyDaemon> _daemons = [];

    private ScenarioLab(TestContext ctx, ScenarioOptions o, string name, int seed, string tmp)
    {
        _ctx = ctx;
        Options = o;
        Name = name;
        Seed = seed;
        Tmp = tmp;
        SocketPath = $"/tmp/{name}.sock";
        ResultPath = Path.Combine(tmp, "result.json");
    }

    public ScenarioOptions Options { get; }

    /// <summary>Lab name, also the sfcproxy instance name (pins in /sys/fs/bpf/sfcproxy/NAME).</summary>
    public string Name { get; }
    public int Seed { get; }
    public string Tmp { get; }
    public string SocketPath { get; }
    public string ResultPath { get; }
    public LabTopology Topo { get; private set; } = null!;
    public LabProcess? Vnf { get; private set; }

    public string Instance => Name;
    public string PinDir => BpfState.PinDir(Instance);

    /// <summary>Pin path of an instance link: program xdp_rx/meta_mark (on the ingress) or tc_tx (egress).</summary>
    public string LinkPin(string program) =>
        BpfState.LinkPin(Instance, program, program == SfcBpfNames.TcTx.Program ? Topo.ProxyEgress : Topo.ProxyIngress);

    /// <summary>prog_id of an instance link's pin; fails the test if it is not pinned.</summary>
    public uint LinkProgId(string program) => BpfState.LinkProgId(LinkPin(program), Instance);

    /// <summary>The links this scenario's daemon pins: xdp_rx, tc_tx, and meta_mark in metadata key mode.</summary>
    public IReadOnlyList<string> LinkPrograms =>
        Options.KeyMode == "metadata" ? [SfcBpfNames.XdpRx.Program, SfcBpfNames.TcTx.Program, SfcBpfNames.MetaMark.Program]
            : [SfcBpfNames.XdpRx.Program, SfcBpfNames.TcTx.Program];

    public DeviceHooks IngressHooks() => BpfState.Hooks(Topo, Topo.ProxyNs, Topo.ProxyIngress);
    public DeviceHooks EgressHooks() => BpfState.Hooks(Topo, Topo.ProxyNs, Topo.ProxyEgress);

    public void Log(string msg) => _ctx.WriteLine($"[{DateTime.Now:HH:mm:ss.fff}] {msg}");

    /// <summary>Preconditions, lab up, and the TUN VNF when the scenario has one.</summary>
    public static ScenarioLab Up(TestContext ctx, ScenarioOptions o, bool needBpftool = false)
    {
        LabEnvironment.RequirePreconditions(needTun: o.UserVnf, needBpftool: needBpftool, needBurst: o.BurstCpu is not null);
        var name = LabEnvironment.NewName();
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SFCPROXY_E2E_SEED"), out var s)
            ? s
            : Random.Shared.Next(1, 1_000_000);
        var tmp = Directory.CreateTempSubdirectory($"sfcproxy-e2e-{name}-").FullName;
        var lab = new ScenarioLab(ctx, o, name, seed, tmp);
        var vnf = o.UserVnf ? "user-mode TUN VNF" : o.SidecarVnf ? "kernel VNF in its own namespace (sidecar)" : "kernel VNF";
        lab.Log($"lab {name}, key mode {o.KeyMode}, {vnf}, encap {o.Encap}, seed {seed}, tmp {tmp}");
        try
        {
            lab.Topo = LabTopology.Up(name, o.UserVnf, o.SidecarVnf, o.TopologyArgs);
            if (o.UserVnf)
            {
                lab.Vnf = lab.Track(lab.Topo.Start(lab.Topo.ProxyNs, LabEnvironment.Python, LabEnvironment.TunVnf,
                    "--tun", lab.Topo.TunIf!, "--drop-udp-port", lab.Topo.VnfDropPort.ToString(CultureInfo.InvariantCulture)));
                lab.Vnf.WaitForLine("READY", TimeSpan.FromSeconds(10), "tun_vnf.py");
            }
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    private LabProcess Track(LabProcess p)
    {
        _processes.Add(p);
        return p;
    }

    /// <summary>`ping.py DST` from the sender (the receiver answers; replies come back through the
    /// proxy's ingress).</summary>
    public CmdResult PingFromSender(string dst, int count = 2) =>
        Topo.Exec(Topo.SenderNs, TimeSpan.FromSeconds(15), LabEnvironment.Python, LabEnvironment.Ping, dst, "--count",
            count.ToString(CultureInfo.InvariantCulture));

    /// <summary>The lab itself must forward plain IP before the proxy is in the picture; otherwise a
    /// failure later would be blamed on sfcproxy.</summary>
    public void PingPlainIp()
    {
        foreach (var dst in new[] { "198.18.2.1", "2001:2:2::1" })
        {
            var ping = PingFromSender(dst);
            if (ping.ExitCode != 0)
            {
                Assert.Fail($"Lab broken before sfcproxy started: plain IP from sender to {dst} does not cross the proxy namespace.\n{ping}" +
                            (Vnf is null ? "" : "\n" + Vnf.Describe()));
            }
        }
    }

    /// <summary>The scenario's config (see <see cref="SfcProxyDaemon.WriteConfig"/>), instance = lab name.
    /// With srv6 among the Encapsulations, Srv6:Sids is the one proxy SID the traffic goes to,
    /// <see cref="Srv6Lab.ProxySid"/>, serving inner IPv4 and IPv6.</summary>
    public string WriteConfig(Action<JsonObject>? customize = null) =>
        SfcProxyDaemon.WriteConfig(Tmp, Instance, Options.KeyMode, Topo, SocketPath,
            Options.Encapsulations, Options.NshNextHopIsReceiver ? Topo.ReceiverMac : null, p =>
            {
                if (Options.Encapsulations?.Contains("srv6") == true)
                {
                    p["Srv6"] = Srv6Lab.SidsSection();
                }
                customize?.Invoke(p);
            });

    /// <summary>Starts a daemon (ready = socket) that Dispose will stop if the test does not.</summary>
    public SfcProxyDaemon StartDaemon(string configPath, double readySeconds = 30)
    {
        var d = SfcProxyDaemon.Start(Topo, configPath, SocketPath, TimeSpan.FromSeconds(readySeconds));
        _daemons.Add(d);
        return d;
    }

    /// <summary>With <see cref="ScenarioOptions.BurstCpu"/>: `topology.sh burst` once the daemon's
    /// XDP program is on the ingress (a veth has NAPI only then); fails the test if it cannot.</summary>
    public void SetUpBursts()
    {
        if (Options.BurstCpu is not { } cpu)
        {
            return;
        }
        var r = Cmd.Run("/bin/bash", [LabEnvironment.Topology, "burst", Name, cpu.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(20));
        if (r.ExitCode != 0)
        {
            Assert.Fail($"topology.sh burst {Name} {cpu} failed (threaded NAPI on the ingress, taskset, chrt):\n{r}");
        }
        Log($"bursts: {r.StdOut.Trim()}");
    }

    private string TrafficScript => Path.Combine(LabEnvironment.ScriptDir, Options.Traffic);

    /// <summary>Generator options shared by send and recv.</summary>
    public string[] Generator(int? count = null) =>
    [
        "--count", (count ?? Options.PacketCount).ToString(CultureInfo.InvariantCulture),
        "--seed", Seed.ToString(CultureInfo.InvariantCulture),
        "--flows", Options.Flows.ToString(CultureInfo.InvariantCulture),
        "--family", "both", "--labels-min", "1", "--labels-max", "5",
        "--drop-port", Topo.VnfDropPort.ToString(CultureInfo.InvariantCulture), "--encap", Options.Encap,
        .. Options.Encap is "srv6" or "all" ? ["--srv6-sid", Srv6Lab.ProxySid] : Array.Empty<string>(), .. Options.GeneratorArgs,
    ];

    /// <summary>Starts the receiver and waits until it listens. <paramref name="count"/> overrides
    /// the scenario's packet count (for a short extra run: pass the same to the sender).</summary>
    public LabProcess StartReceiver(int? count = null, double timeoutSeconds = 20, string? resultPath = null)
    {
        // The outer dst of restored NSH frames carrying Ethernet: Nsh:NextHopMac, else the popped
        // frame's source (the sender).
        var nshOuterDst = Options.NshNextHopIsReceiver ? Topo.ReceiverMac : Topo.SenderMac;
        var receiver = Track(Topo.Start(Topo.ReceiverNs,
            [LabEnvironment.Python, TrafficScript, "recv", "--iface", Topo.ReceiverIf, .. Generator(count),
             "--consumed", "1", "--ip-hops", Options.IpHops.ToString(CultureInfo.InvariantCulture),
             "--egress-mac", Topo.ProxyEgressMac, "--nsh-outer-dst", nshOuterDst,
             "--timeout", timeoutSeconds.ToString(CultureInfo.InvariantCulture), "--out", resultPath ?? ResultPath]));
        receiver.WaitForLine("READY", TimeSpan.FromSeconds(30), "receiver (sfc_traffic.py recv)");
        return receiver;
    }

    // NSH next protocol Ethernet: the inner frame must be addressed to the proxy ingress so the
    // kernel VNF routes it.
    private string[] SendCommand(int? count, IEnumerable<string> pacing) =>
        [LabEnvironment.Python, TrafficScript, "send", "--iface", Topo.SenderIf,
         "--dst-mac", Topo.ProxyIngressMac, "--inner-dst-mac", Topo.ProxyIngressMac, .. Generator(count),
         .. Options.BurstCpu is { } cpu ? ["--burst-cpu", cpu.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(), .. pacing];

    /// <summary>Sends everything in the foreground; fails the test if the sender fails.</summary>
    public CmdResult Send(int? count = null, params string[] pacing)
    {
        var send = Topo.Exec(Topo.SenderNs, TimeSpan.FromSeconds(40), SendCommand(count, pacing));
        if (send.ExitCode != 0)
        {
            Assert.Fail($"sender failed:\n{send}");
        }
        Log($"sender: {send.StdOut.Trim()}");
        return send;
    }

    /// <summary>Starts the sender in the background (e.g. pacing "--batch", "4", "--gap-ms", "2");
    /// it prints SENDING right before its first frame (<see cref="LabProcess.WaitForLine"/>).</summary>
    public LabProcess StartSender(int? count = null, params string[] pacing) =>
        Track(Topo.Start(Topo.SenderNs, SendCommand(count, pacing)));

    /// <summary>Waits for the background sender to finish (exit 0) and returns its summary line.</summary>
    public string WaitForSender(LabProcess sender, double timeoutSeconds = 40)
    {
        if (!sender.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            Assert.Fail($"sender did not finish within {timeoutSeconds} s.\n{sender.Describe()}");
        }
        if (sender.ExitCode != 0)
        {
            Assert.Fail($"sender failed.\n{sender.Describe()}");
        }
        var summary = sender.StdOut.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'))?.Trim() ?? "";
        Log($"sender: {summary}");
        return summary;
    }

    /// <summary>Waits for the receiver and returns its parsed result (cloned: no document to dispose).</summary>
    public JsonElement WaitForResult(LabProcess receiver, string? resultPath = null)
    {
        if (!receiver.WaitForExit(TimeSpan.FromSeconds(40)))
        {
            Assert.Fail($"receiver did not finish.\n{receiver.Describe()}");
        }
        var path = resultPath ?? ResultPath;
        if (!File.Exists(path))
        {
            Assert.Fail($"receiver wrote no result.\n{receiver.Describe()}");
        }
        using var result = JsonDocument.Parse(File.ReadAllText(path));
        return result.RootElement.Clone();
    }

    /// <summary>The VNF's counters: iptables SFCVNF (kernel VNF), or tun_vnf.py's last line, which
    /// it prints when stopped (so this stops the TUN VNF).</summary>
    public string VnfCounters()
    {
        if (Vnf is null)
        {
            return EndToEndScenario.IptablesCounters(Topo);
        }
        Vnf.Stop(TimeSpan.FromSeconds(5));
        return Vnf.StdOut.Split('\n').LastOrDefault(l => l.Contains("tun_vnf", StringComparison.Ordinal))?.Trim() ?? "<no counters>";
    }

    /// <summary>Sidecar layout: frames XDP_REDIRECTed into Interfaces:Vnf, the sum of the veth's
    /// tx_queue_N_xdp_xmit counters (`ethtool -S`); fails the test if there are none to read.</summary>
    public long RedirectedToVnf()
    {
        var r = Topo.Exec(Topo.ProxyNs, TimeSpan.FromSeconds(10), "ethtool", "-S", Topo.VnfIf!);
        long sum = 0;
        var found = false;
        foreach (var line in r.StdOut.Split('\n'))
        {
            var kv = line.Split(':', 2, StringSplitOptions.TrimEntries);
            if (kv.Length == 2 && kv[0].StartsWith("tx_queue_", StringComparison.Ordinal) && kv[0].EndsWith("_xdp_xmit", StringComparison.Ordinal))
            {
                sum += long.Parse(kv[1], CultureInfo.InvariantCulture);
                found = true;
            }
        }
        if (r.ExitCode != 0 || !found)
        {
            Assert.Fail($"no xdp_xmit counters in `ethtool -S {Topo.VnfIf}`:\n{r}");
        }
        return sum;
    }

    /// <summary>Everything worth printing when an assertion fails.</summary>
    public string Diagnostics(JsonElement r, string sender, string stats, string vnfCounters, params string[] more)
    {
        var sb = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"lab {Name}, key mode {Options.KeyMode}, encap {Options.Encap}, seed {Seed} (rerun with SFCPROXY_E2E_SEED={Seed})")
            .AppendLine(CultureInfo.InvariantCulture, $"receiver summary: {EndToEndScenario.Summary(r)}")
            .Append(EndToEndScenario.ShapeSummary(r))
            .AppendLine("first errors:")
            .AppendJoin('\n', r.GetProperty("first_errors").EnumerateArray().Select(e => "  " + e.GetString()))
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"sender: {sender.Trim()}")
            .AppendLine(CultureInfo.InvariantCulture, $"daemon stats: {stats}")
            .AppendLine(CultureInfo.InvariantCulture, $"VNF counters: {vnfCounters}");
        foreach (var m in more)
        {
            sb.AppendLine(m);
        }
        return sb.ToString();
    }

    public static void AssertAllOk(JsonElement r, string diagnostics) =>
        Assert.IsTrue(r.GetProperty("all_ok").GetBoolean(),
            $"Not every packet came through the proxy with its SFC headers restored.\n{diagnostics}");

    /// <summary>The VNF really processed the traffic (the packets did not bypass it). A receiver
    /// that knows better how many of its packets the VNF's counters must show (the corpus: a
    /// stateful chain counts a reassembled datagram once, ICMP is not counted) says so in
    /// vnf_min.</summary>
    public void AssertVnfSawTraffic(JsonElement r, string vnfCounters, string diagnostics)
    {
        var expected = r.TryGetProperty("vnf_min", out var min) ? min.GetInt32() : r.GetProperty("expected").GetInt32();
        var expectedDropped = r.GetProperty("expected_dropped").GetInt32();
        if (Options.UserVnf)
        {
            using var c = JsonDocument.Parse(vnfCounters);
            var t = c.RootElement.GetProperty("tun_vnf");
            Assert.IsGreaterThanOrEqualTo(expected + expectedDropped, t.GetProperty("read").GetInt32(),
                $"tun_vnf.py read fewer packets than were delivered.\n{diagnostics}");
            Assert.AreEqual(expectedDropped, t.GetProperty("dropped").GetInt32(),
                $"tun_vnf.py dropped count.\n{diagnostics}");
        }
        else
        {
            var (accepted, dropped) = EndToEndScenario.ParseIptables(vnfCounters);
            Assert.IsGreaterThanOrEqualTo(expected, accepted,
                $"iptables FORWARD (SFCVNF) accepted fewer packets than were delivered.\n{diagnostics}");
            Assert.IsGreaterThanOrEqualTo(expectedDropped, dropped,
                $"iptables FORWARD (SFCVNF) drop rule did not see the dropped flow.\n{diagnostics}");
        }
    }

    /// <summary>Nothing of the instance is left: no pin directory, no XDP on the ingress, no tcx
    /// program on the ingress or the egress.</summary>
    public void AssertFullyDetached(string context)
    {
        var ingress = IngressHooks();
        var egress = EgressHooks();
        var detail = $"{context}\n{BpfState.DescribePins(Instance)}\ningress: {ingress}\negress: {egress}";
        Assert.IsFalse(Directory.Exists(PinDir), $"the pin directory {PinDir} is still there. {detail}");
        Assert.AreEqual(0u, ingress.Xdp, $"an XDP program is still attached to the ingress. {detail}");
        Assert.IsEmpty(ingress.TcxIngress, $"a tcx program is still attached to the ingress. {detail}");
        Assert.IsEmpty(egress.TcxEgress, $"a tcx program is still attached to the egress. {detail}");
    }

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
        if (Topo is not null && Directory.Exists(PinDir))
        {
            // Left attached on purpose (DetachOnStop false, kill -9) or by a failed test.
            var r = SfcProxyDaemon.Detach(Topo, Instance, BpfState.DefaultPinRoot, SocketPath);
            Log($"cleanup: sfcproxy detach --instance {Instance}: exit {r.ExitCode} {r.StdOut.Trim()} {r.StdErr.Trim()}");
        }
        try
        {
            if (Directory.Exists(PinDir))
            {
                Directory.Delete(PinDir, recursive: true);
            }
        }
        catch (IOException e)
        {
            Log($"cleanup: could not remove {PinDir}: {e.Message}");
        }
        if (Topo is not null)
        {
            Topo.Dispose();
        }
        else
        {
            LabTopology.Down(Name);
        }
        try
        {
            Directory.Delete(Tmp, recursive: true);
            File.Delete(SocketPath);
            File.Delete(GroNotePath);
        }
        catch (IOException)
        {
        }
    }
}
