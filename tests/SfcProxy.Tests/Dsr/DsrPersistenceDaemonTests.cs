using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using SfcProxy.Bpf;
using SfcProxy.Tests.EndToEnd;
using static SfcProxy.Tests.Dsr.DsrEndToEndTests;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// Issue 17: live backend changes survive a restart under traffic. The real `sfcproxy run` is the
/// load balancer of <see cref="DsrLab"/> (generic XDP on lbc, DetachOnStop false as the systemd unit
/// runs it); TCP connections to both backends exchange lines the whole time. After a drain, a
/// reweight and an addition made with `sfcproxy dsr backend`, the daemon is restarted with SIGTERM,
/// then killed with SIGKILL and started again, then reloaded with SIGHUP (once with the file as it
/// was, once with the drain written into it), and last refused a start for a corrupt state file. After
/// each: `sfcproxy dsr ls` shows the live changes as
/// live, new connections avoid the drained backend, and every established connection still gets its
/// echo. A connection's TCP state lives only on the backend that accepted it (its name is the first
/// line it read), so an echo proves the flow did not change backend: another backend would answer
/// with a reset.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class DsrPersistenceDaemonTests
{
    private const string Backend1 = "198.18.51.1", Backend2 = "198.18.52.1";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void LiveChangesSurviveRestartKillAndReloadAndNoEstablishedFlowChangesBackend()
    {
        LabEnvironment.RequirePreconditions(needTun: false, needBpftool: true);
        using var lab = DsrLab.Create(TestContext, XdpAttachMode.Generic, inProcessLb: false);
        var name = LabEnvironment.NewName();
        var tmp = Directory.CreateTempSubdirectory($"sfcproxy-dsr-persist-{name}-").FullName;
        var socket = $"/tmp/{name}.sock";
        var stateFile = Path.Combine(tmp, "state", name, "dsr-live.json");
        var config = WriteConfig(tmp, name, socket);
        SfcProxyDaemon? daemon = null;
        var flows = new List<Flow>();
        try
        {
            daemon = SfcProxyDaemon.Start(lab.LbNs, config, socket, TimeSpan.FromSeconds(30));
            foreach (var backend in new[] { "backend1", "backend1", "backend2", "backend2" })
                flows.Add(Flow.Start(lab.ConnectTo(backend), backend, flows.Count));
            AssertFlowsKept(flows, "before any change", daemon);

            Cli(daemon, "dsr", "backend", "weight", "--vip", Vip, "--port", "8080", "--address", Backend1, "--weight", "0");
            Cli(daemon, "dsr", "backend", "weight", "--vip", Vip, "--port", "8080", "--address", Backend2, "--weight", "2");
            Cli(daemon, "dsr", "backend", "add", "--vip", Vip, "--port", "8081", "--protocol", "udp", "--address", Backend2);
            Assert.IsTrue(File.Exists(stateFile), $"the changes are kept in {stateFile}");
            AssertLiveTable(daemon, "after the live changes", drainLive: true);
            AssertFlowsKept(flows, "after the live changes", daemon);
            AssertNewConnectionsAvoidTheDrainedBackend(lab, "after the live changes");

            // Graceful restart, DetachOnStop false: the datapath stays, the next daemon takes it over.
            var programBefore = BpfState.Hooks(lab.LbNs, "lbc").Xdp;
            var stop = daemon.Stop(TimeSpan.FromSeconds(15));
            Assert.AreEqual(0, daemon.Process.ExitCode, $"{stop}\n{daemon.Process.Describe(3000)}");
            Assert.AreNotEqual(0u, BpfState.Hooks(lab.LbNs, "lbc").Xdp, "dsr_lb stays attached between the daemons");
            daemon.Dispose();
            daemon = SfcProxyDaemon.Start(lab.LbNs, config, socket, TimeSpan.FromSeconds(30));
            Assert.AreNotEqual(programBefore, BpfState.Hooks(lab.LbNs, "lbc").Xdp, "the new daemon's program swapped into the pinned link");
            AssertLiveTable(daemon, "after a graceful restart", drainLive: true);
            AssertFlowsKept(flows, "after a graceful restart", daemon);
            AssertNewConnectionsAvoidTheDrainedBackend(lab, "after a graceful restart");

            // kill -9 right after the last answer, then a new daemon.
            daemon.Kill();
            daemon.Dispose();
            daemon = SfcProxyDaemon.Start(lab.LbNs, config, socket, TimeSpan.FromSeconds(30));
            AssertLiveTable(daemon, "after kill -9 and a start", drainLive: true);
            AssertFlowsKept(flows, "after kill -9 and a start", daemon);
            AssertNewConnectionsAvoidTheDrainedBackend(lab, "after kill -9 and a start");

            // SIGHUP with the file as it was: the live changes stay on top.
            var mark = daemon.Process.Mark();
            daemon.Reload();
            Assert.IsNotNull(daemon.Process.WaitForOutput("Reloaded DSR services", mark, TimeSpan.FromSeconds(15)), daemon.Process.Describe(4000));
            AssertLiveTable(daemon, "after SIGHUP", drainLive: true);
            AssertFlowsKept(flows, "after SIGHUP", daemon);

            // The drain written into the file (made permanent): the config's word now; the others stay live.
            SfcProxyDaemon.EditConfig(config, p => p["Dsr"]!["Services"]![0]!["Backends"]![0]!["Weight"] = 0);
            mark = daemon.Process.Mark();
            daemon.Reload();
            var said = daemon.Process.WaitForOutput("Reloaded DSR services", mark, TimeSpan.FromSeconds(15));
            StringAssert.Contains(said, "2 live changes kept on top, 1 replaced by the file", daemon.Process.Describe(4000));
            Assert.DoesNotContain("needs a restart", daemon.Process.OutputSince(mark), "Dsr:Services reloads; only the section's other fields need a restart");
            AssertLiveTable(daemon, "after SIGHUP with the drain in the file", drainLive: false);
            AssertFlowsKept(flows, "after SIGHUP with the drain in the file", daemon);
            AssertNewConnectionsAvoidTheDrainedBackend(lab, "after SIGHUP with the drain in the file");

            // A state file that cannot be read: the next daemon refuses to start, naming it, and the
            // load balancer left attached goes on with the live table (drain included).
            daemon.Kill();
            daemon.Dispose();
            daemon = null;
            File.WriteAllText(stateFile, "{ \"version\": 1, \"instance\": \"" + name + "\", \"changes\": [ {");
            var refused = Netns.ExecNetworkOnly(lab.LbNs, TimeSpan.FromSeconds(60), [.. LabEnvironment.DaemonCommand, "run", "--config", config]);
            Assert.AreEqual(1, refused.ExitCode, refused.ToString());
            StringAssert.Contains(refused.StdErr, $"DSR state file {stateFile}: not valid JSON", refused.ToString());
            StringAssert.Contains(refused.StdErr, "Not started: starting from the config file alone would undo the live backend changes", refused.ToString());
            AssertFlowsKept(flows, "after a start refused for the state file", null);
            AssertNewConnectionsAvoidTheDrainedBackend(lab, "after a start refused for the state file");
            TestContext.WriteLine("exchanges per connection: " + string.Join(", ", flows.Select(f => $"{f.Backend} {f.Exchanges}")));
        }
        finally
        {
            foreach (var f in flows)
                f.Stop();
            daemon?.Kill();
            daemon?.Dispose();
            var r = Netns.ExecNetworkOnly(lab.LbNs, TimeSpan.FromSeconds(30), [.. LabEnvironment.DaemonCommand, "detach", "--instance", name]);
            TestContext.WriteLine($"sfcproxy detach --instance {name}: exit {r.ExitCode} {r.StdOut.Trim()} {r.StdErr.Trim()}");
            Directory.Delete(tmp, recursive: true);
            File.Delete(socket);
        }
    }

    private static string WriteConfig(string dir, string instance, string socket)
    {
        static JsonObject Backend(string address) => new() { ["Address"] = address };
        var path = Path.Combine(dir, "sfcproxy.json");
        File.WriteAllText(path, new JsonObject
        {
            ["SfcProxy"] = new JsonObject
            {
                ["Instance"] = instance,
                ["Socket"] = new JsonObject { ["Path"] = socket },
                ["DetachOnStop"] = false,
                ["StateDirectory"] = Path.Combine(dir, "state"),
                ["Dsr"] = new JsonObject
                {
                    ["Interface"] = "lbc",
                    ["XdpMode"] = "generic",
                    ["Source"] = "198.18.50.254",
                    ["Services"] = new JsonArray(
                        new JsonObject { ["Vip"] = Vip, ["Port"] = Port, ["Backends"] = new JsonArray(Backend(Backend1), Backend(Backend2)) },
                        new JsonObject { ["Vip"] = Vip, ["Port"] = UdpPort, ["Protocol"] = "udp", ["Backends"] = new JsonArray(Backend(Backend1)) }),
                },
            },
        }.ToJsonString());
        return path;
    }

    private static void Cli(SfcProxyDaemon daemon, params string[] args)
    {
        var r = daemon.Cli(args);
        Assert.AreEqual(0, r.ExitCode, $"sfcproxy {string.Join(' ', args)}: {r}");
    }

    /// <summary>`dsr ls --json`: TCP backend1 weight 0 (live, or from the file once written there),
    /// backend2 weight 2 live; UDP backend1 from the config, backend2 added live.</summary>
    private static void AssertLiveTable(SfcProxyDaemon daemon, string step, bool drainLive)
    {
        var r = daemon.Cli("dsr", "ls", "--json");
        Assert.AreEqual(0, r.ExitCode, $"{step}: sfcproxy dsr ls: {r}");
        using var doc = JsonDocument.Parse(r.StdOut);
        var dsr = doc.RootElement.GetProperty("dsr");
        var rows = dsr.GetProperty("services").EnumerateArray()
            .SelectMany(s => s.GetProperty("backends").EnumerateArray().Select(b =>
                $"{s.GetProperty("port")}/{s.GetProperty("protocol").GetString()} {b.GetProperty("address").GetString()} " +
                $"{b.GetProperty("weight")} {b.GetProperty("state").GetString()} {b.GetProperty("source").GetString()}"))
            .Order(StringComparer.Ordinal).ToArray();
        string[] expected =
        [
            $"8080/tcp {Backend1} 0 draining {(drainLive ? "live" : "config")}",
            $"8080/tcp {Backend2} 2 active live",
            $"8081/udp {Backend1} 1 active config",
            $"8081/udp {Backend2} 1 active live",
        ];
        CollectionAssert.AreEqual(expected, rows, $"{step}: {r.StdOut}");
        Assert.AreEqual(drainLive ? 3 : 2, dsr.GetProperty("liveChanges").GetArrayLength(), $"{step}: {r.StdOut}");
    }

    /// <summary>Every connection gets at least 3 more echoes within 10 s, and none failed.</summary>
    private static void AssertFlowsKept(List<Flow> flows, string step, SfcProxyDaemon? daemon)
    {
        var before = flows.Select(f => f.Exchanges).ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (flows.Select((f, i) => f.Exchanges - before[i]).Min() < 3 && flows.All(f => f.Error is null) && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        foreach (var f in flows)
        {
            Assert.IsNull(f.Error, $"{step}: connection {f.Id} on {f.Backend} failed after {f.Exchanges} echoes: {f.Error}\n{daemon?.Process.Describe(3000)}");
            Assert.IsGreaterThanOrEqualTo(before[f.Id] + 3, f.Exchanges, $"{step}: connection {f.Id} on {f.Backend} stalled");
        }
    }

    private static void AssertNewConnectionsAvoidTheDrainedBackend(DsrLab lab, string step)
    {
        for (var i = 0; i < 6; i++)
        {
            using var c = lab.Connect();
            Assert.AreEqual("backend2", ReadLine(c), $"{step}: new connection {i} while backend1 is drained");
        }
    }

    /// <summary>An established connection exchanging a line every 20 ms on a thread of its own.</summary>
    private sealed class Flow
    {
        private readonly Socket _socket;
        private readonly Thread _thread;
        private volatile bool _stop;
        private int _exchanges;

        private Flow(Socket socket, string backend, int id)
        {
            (_socket, Backend, Id) = (socket, backend, id);
            _thread = new Thread(Run) { IsBackground = true, Name = $"flow {id}" };
        }

        public string Backend { get; }
        public int Id { get; }
        public int Exchanges => Volatile.Read(ref _exchanges);
        public volatile string? Error;

        public static Flow Start(Socket socket, string backend, int id)
        {
            var f = new Flow(socket, backend, id);
            f._thread.Start();
            return f;
        }

        public void Stop()
        {
            _stop = true;
            _thread.Join(TimeSpan.FromSeconds(10));
        }

        private void Run()
        {
            try
            {
                for (var n = 0; !_stop; n++)
                {
                    var line = $"{Backend} {Id} {n}";
                    var back = Exchange(_socket, line);
                    if (back != line)
                        throw new InvalidOperationException($"sent '{line}', got '{back}'");
                    Interlocked.Increment(ref _exchanges);
                    Thread.Sleep(20);
                }
            }
            catch (Exception e) when (e is SocketException or InvalidOperationException or ObjectDisposedException)
            {
                Error = e.Message;
            }
        }
    }
}
