using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>What one end-to-end run sends and how the proxy is configured.</summary>
/// <param name="KeyMode">Config KeyMode: metadata | header-hash.</param>
/// <param name="UserVnf">true: user-mode TUN VNF (tun_vnf.py); false: kernel forwarding + iptables.</param>
/// <param name="IpHops">IP TTL decrements the VNF causes (kernel 1, TUN 2).</param>
internal sealed record ScenarioOptions(string KeyMode, bool UserVnf, int IpHops)
{
    /// <summary>sfc_traffic.py --encap: mpls | nsh | mixed.</summary>
    public string Encap { get; init; } = "mpls";

    /// <summary>Config Encapsulations; null leaves the field out (the daemon's default, MPLS).</summary>
    public IReadOnlyList<string>? Encapsulations { get; init; }

    /// <summary>Set Nsh:NextHopMac to the receiver's MAC (outer dst of restored NSH-over-Ethernet
    /// frames carrying Ethernet); the receiver checks it.</summary>
    public bool NshNextHopIsReceiver { get; init; }

    /// <summary>Further generator options (identical for send and recv).</summary>
    public IReadOnlyList<string> GeneratorArgs { get; init; } = [];

    public int PacketCount { get; init; } = 1200;
    public int Flows { get; init; } = 8;
}

/// <summary>What a finished run hands to the test's own assertions.</summary>
internal sealed class ScenarioOutcome
{
    public required JsonElement Receiver { get; init; }

    /// <summary>`sfcproxy stats --json` taken after the traffic, before the daemon stopped.</summary>
    public required string Stats { get; init; }

    /// <summary>Everything worth printing when an assertion fails.</summary>
    public required string Diagnostics { get; init; }

    public int ReceiverInt(string key) => Receiver.GetProperty(key).GetInt32();

    /// <summary>A datapath counter from the stats answer ({"ok":true,"counters":{name:n}}); null when
    /// the answer has no such counter (or is not JSON: stats failed).</summary>
    public long? Counter(string name)
    {
        try
        {
            using var doc = JsonDocument.Parse(Stats);
            return doc.RootElement.TryGetProperty("counters", out var c) && c.TryGetProperty(name, out var v)
                ? v.GetInt64()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// One end-to-end run: lab up, (TUN VNF), plain-IP sanity ping, sfcproxy daemon with the scenario's
/// config, receiver (sfc_traffic.py recv) and sender (send) with one seeded generator, daemon
/// stats, daemon stop, VNF counters, then the assertions every scenario shares: every packet ok
/// (all_ok), the scenario's own checks (<paramref name="verify"/> of <see cref="Run"/>), the VNF
/// really saw the traffic, the daemon exited 0 on SIGTERM. Tears everything down.
/// Needs root, /usr/bin/python3 with scapy, iproute2, iptables, ethtool (fails loudly otherwise).
/// </summary>
internal static class EndToEndScenario
{
    public static void Run(TestContext testContext, ScenarioOptions o, Action<ScenarioOutcome>? verify = null)
    {
        void Log(string msg) => testContext.WriteLine(msg);

        LabEnvironment.RequirePreconditions(needTun: o.UserVnf);

        var name = LabEnvironment.NewName();
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SFCPROXY_E2E_SEED"), out var s)
            ? s
            : Random.Shared.Next(1, 1_000_000);
        var tmp = Directory.CreateTempSubdirectory($"sfcproxy-e2e-{name}-").FullName;
        var socketPath = $"/tmp/{name}.sock";
        var resultPath = Path.Combine(tmp, "result.json");
        Log($"lab {name}, key mode {o.KeyMode}, {(o.UserVnf ? "user-mode TUN VNF" : "kernel VNF")}, encap {o.Encap}, seed {seed}, tmp {tmp}");

        LabTopology? topo = null;
        LabProcess? vnf = null;
        LabProcess? receiver = null;
        SfcProxyDaemon? daemon = null;
        try
        {
            topo = LabTopology.Up(name, o.UserVnf);
            var drop = topo.VnfDropPort.ToString(CultureInfo.InvariantCulture);

            if (o.UserVnf)
            {
                vnf = topo.Start(topo.ProxyNs, LabEnvironment.Python, LabEnvironment.TunVnf,
                    "--tun", topo.TunIf!, "--drop-udp-port", drop);
                vnf.WaitForLine("READY", TimeSpan.FromSeconds(10), "tun_vnf.py");
            }

            // The lab itself must forward plain IP before the proxy is in the picture; otherwise a
            // failure below would be blamed on sfcproxy.
            foreach (var dst in new[] { "198.18.2.1", "2001:2:2::1" })
            {
                var ping = topo.Exec(topo.SenderNs, TimeSpan.FromSeconds(15),
                    LabEnvironment.Python, LabEnvironment.Ping, dst, "--count", "2");
                if (ping.ExitCode != 0)
                {
                    Assert.Fail($"Lab broken before sfcproxy started: plain IP from sender to {dst} does not cross the proxy namespace.\n{ping}" +
                                (vnf is null ? "" : "\n" + vnf.Describe()));
                }
            }

            var configPath = SfcProxyDaemon.WriteConfig(tmp, name, o.KeyMode, topo, socketPath,
                o.Encapsulations, o.NshNextHopIsReceiver ? topo.ReceiverMac : null);
            daemon = SfcProxyDaemon.Start(topo, configPath, socketPath, TimeSpan.FromSeconds(30));
            Log($"sfcproxy ready (pid {daemon.Process.Pid})");

            string[] gen =
            [
                "--count", o.PacketCount.ToString(CultureInfo.InvariantCulture),
                "--seed", seed.ToString(CultureInfo.InvariantCulture),
                "--flows", o.Flows.ToString(CultureInfo.InvariantCulture),
                "--family", "both", "--labels-min", "1", "--labels-max", "5",
                "--drop-port", drop, "--encap", o.Encap, .. o.GeneratorArgs,
            ];
            // The outer dst of restored NSH frames carrying Ethernet: Nsh:NextHopMac, else the
            // popped frame's source (the sender).
            var nshOuterDst = o.NshNextHopIsReceiver ? topo.ReceiverMac : topo.SenderMac;
            receiver = topo.Start(topo.ReceiverNs,
                [LabEnvironment.Python, LabEnvironment.Traffic, "recv", "--iface", topo.ReceiverIf, .. gen,
                 "--consumed", "1", "--ip-hops", o.IpHops.ToString(CultureInfo.InvariantCulture),
                 "--egress-mac", topo.ProxyEgressMac, "--nsh-outer-dst", nshOuterDst,
                 "--timeout", "20", "--out", resultPath]);
            receiver.WaitForLine("READY", TimeSpan.FromSeconds(30), "receiver (sfc_traffic.py recv)");

            // NSH next protocol Ethernet: the inner frame must be addressed to the proxy ingress so
            // the kernel VNF routes it.
            var send = topo.Exec(topo.SenderNs, TimeSpan.FromSeconds(40),
                [LabEnvironment.Python, LabEnvironment.Traffic, "send", "--iface", topo.SenderIf,
                 "--dst-mac", topo.ProxyIngressMac, "--inner-dst-mac", topo.ProxyIngressMac, .. gen]);
            if (send.ExitCode != 0)
            {
                Assert.Fail($"sender failed:\n{send}");
            }
            Log($"sender: {send.StdOut.Trim()}");

            if (!receiver.WaitForExit(TimeSpan.FromSeconds(40)))
            {
                Assert.Fail($"receiver did not finish.\n{receiver.Describe()}");
            }

            var stats = daemon.Stats(topo);
            var vnfCounters = o.UserVnf ? "" : IptablesCounters(topo);
            var stopInfo = daemon.Stop(TimeSpan.FromSeconds(15));
            var daemonExit = daemon.Process.ExitCode;
            var daemonOutput = daemon.Process.Describe(3000);
            if (vnf is not null)
            {
                vnf.Stop(TimeSpan.FromSeconds(5));
                vnfCounters = vnf.StdOut.Split('\n').LastOrDefault(l => l.Contains("tun_vnf", StringComparison.Ordinal))?.Trim() ?? "<no counters>";
            }
            Log($"daemon stats: {stats}");
            Log($"VNF: {vnfCounters}");
            Log(stopInfo);

            if (!File.Exists(resultPath))
            {
                Assert.Fail($"receiver wrote no result.\n{receiver.Describe()}");
            }
            using var result = JsonDocument.Parse(File.ReadAllText(resultPath));
            var r = result.RootElement;
            var diagnostics = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"lab {name}, key mode {o.KeyMode}, encap {o.Encap}, seed {seed} (rerun with SFCPROXY_E2E_SEED={seed})")
                .AppendLine(CultureInfo.InvariantCulture, $"receiver summary: {Summary(r)}")
                .AppendLine("first errors:")
                .AppendJoin('\n', r.GetProperty("first_errors").EnumerateArray().Select(e => "  " + e.GetString()))
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"sender: {send.StdOut.Trim()}")
                .AppendLine(CultureInfo.InvariantCulture, $"daemon stats: {stats}")
                .AppendLine(CultureInfo.InvariantCulture, $"VNF counters: {vnfCounters}")
                .AppendLine(stopInfo)
                .AppendLine(daemonOutput)
                .ToString();

            Assert.IsTrue(r.GetProperty("all_ok").GetBoolean(),
                $"Not every packet came through the proxy with its SFC headers restored.\n{diagnostics}");

            verify?.Invoke(new ScenarioOutcome { Receiver = r, Stats = stats, Diagnostics = diagnostics });

            // The VNF really processed the traffic (the packets did not bypass it).
            var expected = r.GetProperty("expected").GetInt32();
            var expectedDropped = r.GetProperty("expected_dropped").GetInt32();
            if (o.UserVnf)
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
                var (accepted, dropped) = ParseIptables(vnfCounters);
                Assert.IsGreaterThanOrEqualTo(expected, accepted,
                    $"iptables FORWARD (SFCVNF) accepted fewer packets than were delivered.\n{diagnostics}");
                Assert.IsGreaterThanOrEqualTo(expectedDropped, dropped,
                    $"iptables FORWARD (SFCVNF) drop rule did not see the dropped flow.\n{diagnostics}");
            }

            Assert.AreEqual(0, daemonExit, $"sfcproxy should exit 0 on SIGTERM: {stopInfo}\n{diagnostics}");
        }
        finally
        {
            receiver?.Dispose();
            daemon?.Dispose();
            vnf?.Dispose();
            if (topo is not null)
            {
                topo.Dispose();
            }
            else
            {
                LabTopology.Down(name);
            }
            try
            {
                Directory.Delete(tmp, recursive: true);
                File.Delete(socketPath);
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Summary(JsonElement r) =>
        string.Join(", ", new[] { "expected", "expected_dropped", "expected_expired", "received", "ok", "ok_mpls", "ok_nsh",
                "missing", "wrong_stack", "wrong_nsh", "wrong_eth", "wrong_ip", "wrong_payload", "duplicates", "unexpected",
                "leaked" }
            .Where(k => r.TryGetProperty(k, out _))
            .Select(k => $"{k}={r.GetProperty(k).GetInt32()}"));

    private static string IptablesCounters(LabTopology topo)
    {
        var sb = new StringBuilder();
        foreach (var tool in new[] { "iptables", "ip6tables" })
        {
            var r = topo.Exec(topo.ProxyNs, TimeSpan.FromSeconds(10), tool, "-L", "SFCVNF", "-v", "-x", "-n");
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
