using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Dsr;
using SfcProxy.Tests.Control;
using SfcProxy.Tests.Metrics;
using SfcProxy.Tests.Policy;

namespace SfcProxy.Tests.Dsr;

/// <summary>dsr-status and dsr-backend over the control socket with a fake DSR datapath.</summary>
[TestClass]
public sealed class DsrControlTests
{
    internal sealed class Daemon : IAsyncDisposable
    {
        public FakeDsrDatapath Datapath { get; } = new();
        public ActiveDsr Dsr { get; }
        public ControlServerFixture Server { get; private set; } = null!;

        private Daemon() => Dsr = new ActiveDsr(Datapath,
            [
                new DsrServiceConfig(IPAddress.Parse("203.0.113.10"), 80, 6,
                    [new DsrBackendConfig(IPAddress.Parse("10.0.0.1")), new DsrBackendConfig(IPAddress.Parse("10.0.0.2"), 2)]),
                new DsrServiceConfig(IPAddress.Parse("203.0.113.10"), 53, 17, [new DsrBackendConfig(IPAddress.Parse("10.0.0.3"))]),
            ], NullLogger<ActiveDsr>.Instance);

        /// <summary>Like the daemon: the services are applied at start, then the socket answers.</summary>
        public static async Task<Daemon> StartAsync()
        {
            var daemon = new Daemon();
            await new DsrLoadBalancerService(daemon.Dsr, NullLogger<DsrLoadBalancerService>.Instance).StartAsync(CancellationToken.None);
            daemon.Server = await ControlServerFixture.StartAsync(dsr: daemon.Dsr);
            return daemon;
        }

        public async Task<JsonDocument> AskAsync(string line) => JsonDocument.Parse(await Server.AskAsync(line));

        public async ValueTask DisposeAsync() => await Server.DisposeAsync();
    }

    [TestMethod]
    public async Task StatusListsServicesBackendsStatesAndCounters()
    {
        await using var daemon = await Daemon.StartAsync();

        using var answer = await daemon.AskAsync("""{"request":"dsr-status"}""");

        var dsr = answer.RootElement.GetProperty("dsr");
        var web = dsr.GetProperty("services")[0];
        Assert.AreEqual("203.0.113.10", web.GetProperty("vip").GetString());
        Assert.AreEqual(80, web.GetProperty("port").GetInt32());
        Assert.AreEqual("tcp", web.GetProperty("protocol").GetString());
        Assert.AreEqual(100ul + web.GetProperty("id").GetUInt32(), web.GetProperty("packets").GetUInt64());
        Assert.AreEqual(1000ul * (100ul + web.GetProperty("id").GetUInt32()), web.GetProperty("bytes").GetUInt64());
        var b2 = web.GetProperty("backends")[1];
        Assert.AreEqual("10.0.0.2", b2.GetProperty("address").GetString());
        Assert.AreEqual(2, b2.GetProperty("weight").GetInt32());
        Assert.AreEqual("active", b2.GetProperty("state").GetString());
        Assert.AreEqual(10ul * b2.GetProperty("id").GetUInt32(), b2.GetProperty("packets").GetUInt64());
        Assert.AreEqual(10_000ul * b2.GetProperty("id").GetUInt32(), b2.GetProperty("bytes").GetUInt64());
        Assert.AreEqual("udp", dsr.GetProperty("services")[1].GetProperty("protocol").GetString());
        Assert.AreEqual(7ul, dsr.GetProperty("counters").GetProperty("tx").GetUInt64());
        Assert.AreEqual(5ul, dsr.GetProperty("counters").GetProperty("conn-hit").GetUInt64());
        Assert.AreEqual(0ul, dsr.GetProperty("counters").GetProperty("no-backend").GetUInt64());
    }

    [TestMethod]
    public async Task WeightZeroDrainsKeepingTheBackendAndItsId()
    {
        await using var daemon = await Daemon.StartAsync();
        var ids = daemon.Dsr.Tables!.Backends.ToDictionary(b => b.Address.ToString(), b => b.BackendId);

        using var answer = await daemon.AskAsync(
            """{"request":"dsr-backend","action":"weight","vip":"203.0.113.10","port":80,"protocol":"tcp","address":"10.0.0.1","weight":0}""");

        Assert.IsTrue(answer.RootElement.GetProperty("ok").GetBoolean(), answer.RootElement.ToString());
        var b1 = answer.RootElement.GetProperty("dsr").GetProperty("services")[0].GetProperty("backends")[0];
        Assert.AreEqual("draining", b1.GetProperty("state").GetString());
        Assert.AreEqual(0, b1.GetProperty("weight").GetInt32());
        Assert.HasCount(2, daemon.Datapath.Applied);
        var applied = daemon.Datapath.Applied[1];
        CollectionAssert.AreEquivalent(ids, applied.Backends.ToDictionary(b => b.Address.ToString(), b => b.BackendId));
        var web = applied.Services.Single(s => s.Port == 80).ServiceId;
        Assert.IsFalse(applied.MaglevTables[web].Contains(ids["10.0.0.1"]), "no slot left for the drained backend");
    }

    [TestMethod]
    public async Task AddAndRemoveChangeTheTables()
    {
        await using var daemon = await Daemon.StartAsync();

        using var added = await daemon.AskAsync(
            """{"request":"dsr-backend","action":"add","vip":"203.0.113.10","port":53,"protocol":"udp","address":"10.0.0.4","weight":3}""");
        using var removed = await daemon.AskAsync(
            """{"request":"dsr-backend","action":"remove","vip":"203.0.113.10","port":53,"protocol":17,"address":"10.0.0.3"}""");

        Assert.IsTrue(added.RootElement.GetProperty("ok").GetBoolean(), added.RootElement.ToString());
        Assert.IsTrue(removed.RootElement.GetProperty("ok").GetBoolean(), removed.RootElement.ToString());
        var dns = daemon.Dsr.Services.Single(s => s.Port == 53);
        Assert.AreEqual("10.0.0.4", dns.Backends.Single().Address.ToString());
        Assert.AreEqual(3u, dns.Backends.Single().Weight);
        var applied = daemon.Datapath.Applied[^1];
        var removedId = applied.Backends.Single(b => b.Address.ToString() == "10.0.0.3").BackendId;
        Assert.IsFalse(applied.MaglevTables.Values.Any(t => t.Contains(removedId)), "a removed backend gets no new flows");
        var state = removed.RootElement.GetProperty("dsr").GetProperty("services")[1].GetProperty("backends")[1];
        Assert.AreEqual(("10.0.0.3", "removing", 0), (state.GetProperty("address").GetString(), state.GetProperty("state").GetString(), state.GetProperty("flows").GetInt32()));
        Assert.HasCount(3, daemon.Datapath.Applied);

        // No connection entry names it: the next sweep purges its slot.
        daemon.Dsr.Sweep();
        Assert.IsFalse(daemon.Datapath.Applied[^1].Backends.Any(b => b.Address.ToString() == "10.0.0.3"), "purged: it leaves the tables");
        using var after = await daemon.AskAsync("""{"request":"dsr-status"}""");
        Assert.AreEqual(1, after.RootElement.GetProperty("dsr").GetProperty("services")[1].GetProperty("backends").GetArrayLength());
    }

    [TestMethod]
    public async Task BadChangesAreRefusedAndChangeNothing()
    {
        await using var daemon = await Daemon.StartAsync();
        daemon.Datapath.FailNext = new ArgumentException("too many backends");

        string[] answers =
        [
            await daemon.Server.AskAsync("""{"request":"dsr-backend","action":"drop","vip":"203.0.113.10","port":80,"address":"10.0.0.1"}"""),
            await daemon.Server.AskAsync("""{"request":"dsr-backend","action":"add","vip":"198.51.100.300","port":80,"address":"10.0.0.1"}"""),
            await daemon.Server.AskAsync("""{"request":"dsr-backend","action":"weight","vip":"203.0.113.10","port":80,"address":"10.0.0.1"}"""),
            await daemon.Server.AskAsync("""{"request":"dsr-backend","action":"add","vip":"203.0.113.10","port":81,"address":"10.0.0.9"}"""),
            await daemon.Server.AskAsync("""{"request":"dsr-backend","action":"add","vip":"203.0.113.10","port":80,"address":"10.0.0.1"}"""),
            await daemon.Server.AskAsync("""{"request":"dsr-backend","action":"weight","vip":"203.0.113.10","port":80,"address":"10.0.0.1","weight":70000}"""),
            await daemon.Server.AskAsync("""{"request":"dsr-backend","action":"add","vip":"203.0.113.10","port":80,"address":"10.0.0.9"}"""),
        ];

        answers = answers.Select(a => JsonDocument.Parse(a).RootElement.GetProperty("error").GetString()!).ToArray();
        Assert.AreEqual("dsr-backend: \"action\" must be one of add, remove, weight", answers[0]);
        StringAssert.Contains(answers[1], "must be an IPv4 or IPv6 address, got '198.51.100.300'");
        StringAssert.Contains(answers[2], "is required for action weight (0 drains)");
        StringAssert.Contains(answers[3], "no service 203.0.113.10:81/tcp");
        StringAssert.Contains(answers[4], "backend 10.0.0.1 is already in service 203.0.113.10:80/tcp");
        StringAssert.Contains(answers[5], "must be a whole number 0..65535");
        StringAssert.Contains(answers[6], "not applied, the tables in force are unchanged: too many backends");
        Assert.HasCount(1, daemon.Datapath.Applied, "only the start applied");
        Assert.HasCount(2, daemon.Dsr.Services[0].Backends);
    }

    [TestMethod]
    public async Task MetricsCarryTheDsrCountersPerServiceAndBackendWithLabels()
    {
        await using var daemon = await Daemon.StartAsync();
        var ids = daemon.Dsr.Tables!.Backends.ToDictionary(b => b.Address.ToString(), b => b.BackendId);
        var services = daemon.Dsr.Tables.Services.ToDictionary(s => s.Port, s => s.ServiceId);
        daemon.Datapath.Connections[ids["10.0.0.3"]] = 2;
        daemon.Dsr.RemoveBackend(IPAddress.Parse("203.0.113.10"), 53, 17, IPAddress.Parse("10.0.0.3"));

        using var answer = await daemon.AskAsync("""{"request":"metrics"}""");

        string text = answer.RootElement.GetProperty("metrics").GetString()!;
        var families = PrometheusExposition.Parse(text);
        var samples = families.Values.SelectMany(f => f.Samples).Select(s => s.Canonical).ToHashSet();
        const string I = "instance=\"test\"";
        foreach (var expected in new[]
        {
            $"sfcproxy_dsr_packets_total{{{I},outcome=\"tx\"}} 7\n",
            $"sfcproxy_dsr_packets_total{{{I},outcome=\"pass_not_vip\"}} 0\n",
            $"sfcproxy_dsr_packets_total{{{I},outcome=\"aborted\"}} 0\n",
            $"sfcproxy_dsr_packets_total{{{I},outcome=\"too_big_limited\"}} 0\n",
            $"sfcproxy_dsr_packets_total{{{I},outcome=\"too_big_suppressed\"}} 0\n",
            $"sfcproxy_dsr_events_total{{{I},event=\"conn_hit\"}} 5\n",
            $"sfcproxy_dsr_events_total{{{I},event=\"fib_fallback\"}} 0\n",
            $"sfcproxy_dsr_service_packets_total{{{I},vip=\"203.0.113.10\",port=\"80\",protocol=\"tcp\"}} {100 + services[80]}\n",
            $"sfcproxy_dsr_service_packets_total{{{I},vip=\"203.0.113.10\",port=\"53\",protocol=\"udp\"}} {100 + services[53]}\n",
            $"sfcproxy_dsr_backend_packets_total{{{I},backend=\"10.0.0.2\"}} {10 * ids["10.0.0.2"]}\n",
            $"sfcproxy_dsr_backend_packets_total{{{I},backend=\"10.0.0.3\"}} {10 * ids["10.0.0.3"]}\n",
            $"sfcproxy_dsr_service_bytes_total{{{I},vip=\"203.0.113.10\",port=\"80\",protocol=\"tcp\"}} {1000 * (100 + services[80])}\n",
            $"sfcproxy_dsr_backend_bytes_total{{{I},backend=\"10.0.0.2\"}} {10_000 * ids["10.0.0.2"]}\n",
            $"sfcproxy_dsr_events_total{{{I},event=\"nexthop_cached\"}} 0\n",
            $"sfcproxy_dsr_events_total{{{I},event=\"icmp_forwarded\"}} 0\n",
            $"sfcproxy_dsr_backend_weight{{{I},vip=\"203.0.113.10\",port=\"80\",protocol=\"tcp\",backend=\"10.0.0.2\"}} 2\n",
            $"sfcproxy_dsr_backend_weight{{{I},vip=\"203.0.113.10\",port=\"53\",protocol=\"udp\",backend=\"10.0.0.3\"}} 0\n",
            $"sfcproxy_dsr_removing_backend_flows{{{I},backend=\"10.0.0.3\"}} 2\n",
        })
            Assert.Contains(PrometheusExposition.ParseSample(expected.TrimEnd('\n')).Canonical, samples, text);
        Assert.AreEqual("counter", families["sfcproxy_dsr_packets_total"].Type);
        Assert.AreEqual("gauge", families["sfcproxy_dsr_backend_weight"].Type);
        // Outcomes are the first eleven counters and the two appended after the seven events (the parser checked each family is given once).
        Assert.HasCount(13, families["sfcproxy_dsr_packets_total"].Samples);
        Assert.HasCount(7, families["sfcproxy_dsr_events_total"].Samples);
        foreach (var sample in families.Values.SelectMany(f => f.Samples))
            Assert.AreEqual("test", sample.Labels["instance"], sample.Canonical);
    }

    [TestMethod]
    public async Task WithoutTheModuleTheRequestsSaySo()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        string answer = await fixture.AskAsync("""{"request":"dsr-status"}""");

        Assert.AreEqual("""{"ok":false,"error":"dsr-status: the DSR load balancer is not enabled on this instance (SfcProxy:Dsr:Services is empty)"}""", answer);
    }

    [TestMethod]
    public async Task NobodyMayReadButNotChange()
    {
        await using var daemon = await Daemon.StartAsync();
        File.SetUnixFileMode(daemon.Server.Directory, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(daemon.Server.SocketPath, (UnixFileMode)0b110_110_110);

        string[] answers = await PolicyControlTests.AskAsNobodyAsync(daemon.Server.SocketPath,
            """{"request":"dsr-status"}""",
            """{"request":"dsr-backend","action":"weight","vip":"203.0.113.10","port":80,"address":"10.0.0.1","weight":0}""");

        StringAssert.StartsWith(answers[0], """{"ok":true,"dsr":{"services":[""");
        Assert.AreEqual("""{"ok":false,"error":"dsr-backend needs root (peer uid 65534)"}""", answers[1]);
        Assert.HasCount(1, daemon.Datapath.Applied, "only the start applied");
    }
}
