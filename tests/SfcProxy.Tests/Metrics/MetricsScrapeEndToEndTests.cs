using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using SfcProxy.Tests.Bpf;
using SfcProxy.Tests.EndToEnd;

namespace SfcProxy.Tests.Metrics;

/// <summary>
/// The real daemon with all three modules (SFC proxy in front of the kernel VNF, a DSR service, a
/// policy) and Metrics:Listen on 127.0.0.1 of its namespace, after real SR-MPLS traffic: an HTTP
/// scrape parses strictly, has the families of the <c>metrics</c> request, counts the traffic,
/// listens on the configured address only, and carries (with a DSR backend being removed) every metric name the Grafana dashboard queries.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class MetricsScrapeEndToEndTests
{
    private const int Port = 9464;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task TheRealDaemonServesEveryModulesFamiliesOverHttp()
    {
        var o = new ScenarioOptions("metadata", UserVnf: false, IpHops: 1) { PacketCount = 300 };
        using var lab = ScenarioLab.Up(TestContext, o);
        string ns = lab.Topo.ProxyNs, dsrIf = lab.Name + "lb", policyIf = lab.Name + "pol";
        string[] modulePins = [BpfState.PinDir(lab.Instance + "-dsr"), BpfState.PinDir(lab.Instance + "-policy")];
        try
        {
            Ip("-n", ns, "link", "set", "lo", "up");
            Ip("-n", ns, "link", "add", dsrIf, "type", "veth", "peer", "name", policyIf);
            Ip("-n", ns, "link", "set", dsrIf, "up");
            Ip("-n", ns, "link", "set", policyIf, "up");
            var policyFile = Path.Combine(lab.Tmp, "policy.yaml");
            File.WriteAllText(policyFile, PolicyLab.PolicyYaml(PolicyLab.RuleA));
            var config = lab.WriteConfig(p =>
            {
                p["Metrics"] = new JsonObject { ["Listen"] = $"127.0.0.1:{Port}" };
                p["Dsr"] = new JsonObject
                {
                    ["Interface"] = dsrIf,
                    ["XdpMode"] = "generic",
                    ["Source"] = "198.18.60.1",
                    ["Services"] = new JsonArray(new JsonObject
                    {
                        ["Vip"] = "198.18.61.1",
                        ["Port"] = 80,
                        ["Backends"] = new JsonArray(new JsonObject { ["Address"] = "198.18.62.1" }, new JsonObject { ["Address"] = "198.18.62.2" }),
                    }),
                };
                p["Policy"] = new JsonObject { ["Files"] = new JsonArray(policyFile), ["Interfaces"] = new JsonArray(policyIf) };
            });
            var daemon = lab.StartDaemon(config);
            var receiver = lab.StartReceiver();
            lab.Send();
            var result = lab.WaitForResult(receiver);
            // A backend taken out: its connection entries are counted until it is purged (removing_backend_flows).
            var removed = daemon.Cli("dsr", "backend", "remove", "--vip", "198.18.61.1", "--port", "80", "--address", "198.18.62.2");
            Assert.AreEqual(0, removed.ExitCode, removed.ToString());

            var (contentType, scraped) = await ScrapeInNamespace(ns, $"http://127.0.0.1:{Port}/metrics");
            var request = daemon.Cli("metrics");
            var listening = Netns.Exec(ns, TimeSpan.FromSeconds(10), "ss", "-ltnH").StdOut;
            daemon.Stop(TimeSpan.FromSeconds(15));

            string context = $"scrape:\n{scraped}\nreceiver: {EndToEndScenario.Summary(result)}";
            StringAssert.StartsWith(contentType, "text/plain; version=0.0.4", context);
            var http = PrometheusExposition.Parse(scraped);
            Assert.AreEqual(0, request.ExitCode, request.ToString());
            var answered = PrometheusExposition.Parse(request.StdOut);
            CollectionAssert.AreEquivalent(answered.Select(f => $"{f.Key} {f.Value.Type}").ToList(),
                http.Select(f => $"{f.Key} {f.Value.Type}").ToList(), "the HTTP endpoint and the metrics request serve the same families");
            foreach (var family in new[] { "sfcproxy_uptime_seconds", "sfcproxy_rx_popped_total", "sfcproxy_cache_capacity",
                         "sfcproxy_vnf_dwell_seconds", "sfcproxy_dsr_backend_weight", "sfcproxy_policy_packets_total" })
                Assert.IsTrue(http.ContainsKey(family), $"no {family}\n{context}");
            var samples = http.Values.SelectMany(f => f.Samples).ToList();
            Assert.IsTrue(samples.All(s => s.Labels["instance"] == lab.Instance), context);
            double popped = http["sfcproxy_rx_popped_total"].Samples.Single().Value;
            Assert.IsGreaterThanOrEqualTo(o.PacketCount, popped, $"the scrape counts the traffic\n{context}");
            double dwellCount = http["sfcproxy_vnf_dwell_seconds"].Samples.Where(s => s.Name == "sfcproxy_vnf_dwell_seconds_count").Sum(s => s.Value);
            Assert.IsGreaterThan(0, dwellCount, $"the dwell-time histogram has the chains' packets\n{context}");
            Assert.AreEqual(0, http["sfcproxy_dsr_backend_weight"].Samples.Single(s => s.Labels["backend"] == "198.18.62.2").Value, context);
            Assert.AreEqual(0, http["sfcproxy_dsr_removing_backend_flows"].Samples.Single().Value, context);
            Assert.HasCount(8, http["sfcproxy_policy_packets_total"].Samples, $"one series per policy outcome\n{context}");

            // Bound to the configured address only.
            var sockets = listening.Split('\n').Where(l => l.Contains($":{Port} ", StringComparison.Ordinal)).ToList();
            Assert.HasCount(1, sockets, listening);
            StringAssert.Contains(sockets[0], $"127.0.0.1:{Port}", listening);

            using var dashboard = GrafanaDashboard.Load();
            var names = samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            var missing = GrafanaDashboard.MetricNames(dashboard.RootElement).Where(n => !names.Contains(n)).ToList();
            Assert.IsEmpty(missing, $"the dashboard queries metrics the daemon does not serve: {string.Join(", ", missing)}\n{context}");
        }
        finally
        {
            foreach (var dir in modulePins.Where(Directory.Exists))
                Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// GET over HTTP from inside the daemon's namespace: HttpClient whose sockets are made in the
    /// namespace (setns on a thread of their own; a socket stays in the namespace it was made in).
    /// </summary>
    private static async Task<(string ContentType, string Body)> ScrapeInNamespace(string ns, string url)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                Socket? socket = null;
                TestNetwork.RunIn(ns, () => socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                await socket!.ConnectAsync(context.DnsEndPoint.Host == "127.0.0.1" ? new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port)
                    : throw new ArgumentException(context.DnsEndPoint.Host), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
        using var response = await http.GetAsync(url);
        response.EnsureSuccessStatusCode();
        return (response.Content.Headers.ContentType!.ToString(), await response.Content.ReadAsStringAsync());
    }

    private static void Ip(params string[] args) => Cmd.Check("ip " + string.Join(' ', args), "ip", args, TimeSpan.FromSeconds(15));
}
