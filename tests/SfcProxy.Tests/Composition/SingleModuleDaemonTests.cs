using System.Text.Json;
using System.Text.Json.Nodes;
using SfcProxy.Tests.EndToEnd;

namespace SfcProxy.Tests.Composition;

/// <summary>
/// The real daemon with one module and no SFC proxy (no SfcProxy:Interfaces, so no idle interface pair
/// to give it): a DSR-only load balancer and a policy-only instance each start, answer `status` and
/// their module's requests, and stop on SIGTERM leaving nothing attached and nothing pinned.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SingleModuleDaemonTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void DsrOnlyConfig_Runs_AnswersStatusAndDsr_StopsCleanly()
    {
        LabEnvironment.RequirePreconditions(needTun: false, needBpftool: true);
        var name = LabEnvironment.NewName();
        var ns = name + "-lb";
        var lbIf = name + "l";
        var tmp = Directory.CreateTempSubdirectory($"sfcproxy-dsr-only-{name}-").FullName;
        var socket = $"/tmp/{name}.sock";
        string[] pinDirs = [BpfState.PinDir(name), BpfState.PinDir(name + "-dsr")];
        SfcProxyDaemon? daemon = null;
        try
        {
            Ip("netns", "add", ns);
            Ip("-n", ns, "link", "add", lbIf, "type", "veth", "peer", "name", name + "p");
            Ip("-n", ns, "link", "set", lbIf, "up");
            Ip("-n", ns, "link", "set", name + "p", "up");
            var config = WriteConfig(tmp, new JsonObject
            {
                ["Instance"] = name,
                ["Socket"] = new JsonObject { ["Path"] = socket },
                ["Dsr"] = new JsonObject
                {
                    ["Interface"] = lbIf,
                    ["XdpMode"] = "generic",
                    ["Source"] = "198.18.60.1",
                    ["Services"] = new JsonArray(new JsonObject
                    {
                        ["Vip"] = "198.18.61.1",
                        ["Port"] = 80,
                        ["Backends"] = new JsonArray(new JsonObject { ["Address"] = "198.18.62.1" }, new JsonObject { ["Address"] = "198.18.62.2" }),
                    }),
                },
            });

            daemon = SfcProxyDaemon.Start(ns, config, socket, TimeSpan.FromSeconds(30));

            Assert.AreEqual(name, daemon.Status().GetProperty("instance").GetString());
            var dsr = daemon.Cli("dsr", "ls", "--json");
            Assert.AreEqual(0, dsr.ExitCode, $"sfcproxy dsr ls:\n{dsr}");
            using (var doc = JsonDocument.Parse(dsr.StdOut))
            {
                var service = doc.RootElement.GetProperty("dsr").GetProperty("services").EnumerateArray().Single();
                Assert.AreEqual(2, service.GetProperty("backends").GetArrayLength(), dsr.StdOut);
            }
            Assert.AreNotEqual(0u, BpfState.Hooks(ns, lbIf).Xdp, $"dsr_lb is not attached to {lbIf}: {BpfState.Hooks(ns, lbIf)}");

            // SIGHUP without the SFC proxy: the log level reloads, a DSR change is reported as needing a restart.
            var mark = daemon.Process.Mark();
            SfcProxyDaemon.EditConfig(config, p =>
            {
                p["LogLevel"] = "debug";
                p["Dsr"]!["Source"] = "198.18.60.2";
            });
            daemon.Reload();
            var said = daemon.Process.WaitForOutput("Reloaded: log level debug", mark, TimeSpan.FromSeconds(10));
            Assert.IsNotNull(said, $"a SIGHUP did not reload the log level.\n{daemon.Process.Describe(4000)}");
            StringAssert.Contains(said, "SfcProxy:Dsr:Source", $"the Dsr change should be reported as needing a restart:\n{said}");

            var stop = daemon.Stop(TimeSpan.FromSeconds(15));
            Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM: {stop}\n{daemon.Process.Describe(3000)}");
            AssertNothingLeft(pinDirs, BpfState.Hooks(ns, lbIf));
        }
        finally
        {
            daemon?.Dispose();
            Cleanup(name, ns, tmp, socket, pinDirs);
        }
    }

    [TestMethod]
    public void PolicyOnlyConfig_Runs_AnswersStatusAndPolicy_StopsCleanly()
    {
        using var lab = PolicyLab.Up(TestContext, echoServers: false);
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.RuleA));
        var config = WriteConfig(lab.Tmp, new JsonObject
        {
            ["Instance"] = lab.Instance,
            ["Socket"] = new JsonObject { ["Path"] = lab.SocketPath },
            ["Policy"] = new JsonObject
            {
                ["Files"] = new JsonArray(lab.PolicyPath),
                ["Interfaces"] = new JsonArray([.. lab.PolicyInterfaces.Select(p => JsonValue.Create(p))]),
            },
        });
        Assert.AreEqual(lab.ConfigPath, config, "the lab's daemon reads its config from ConfigPath");

        var daemon = lab.StartDaemon();

        Assert.AreEqual(lab.Instance, daemon.Status().GetProperty("instance").GetString());
        PolicyLab.AssertCheck(daemon, PolicyLab.A4, PolicyLab.S4, PolicyLab.AllowedPort, "rule", "a-to-server-5201");
        PolicyLab.AssertCheck(daemon, PolicyLab.B4, PolicyLab.S4, PolicyLab.AllowedPort, "default-deny");
        foreach (var h in lab.PortHooks())
            Assert.IsNotEmpty(h.TcxIngress, $"no tcx ingress program (policy_tc) on bridge port {h.Device}: {h}");
        var instanceDir = BpfState.PinDir(lab.Instance);
        Assert.IsEmpty(Directory.Exists(instanceDir) ? Directory.GetFiles(instanceDir, "link_*") : [],
            $"no SFC proxy runs, so it pins no links: {BpfState.DescribePins(lab.Instance)}");

        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM: {stop}\n{daemon.Process.Describe(3000)}");
        lab.AssertNothingAttached("policy-only daemon after SIGTERM");
    }

    private static string WriteConfig(string dir, JsonObject section)
    {
        var path = Path.Combine(dir, "sfcproxy.json");
        File.WriteAllText(path, new JsonObject { ["SfcProxy"] = section }.ToJsonString());
        return path;
    }

    private static void AssertNothingLeft(string[] pinDirs, DeviceHooks hooks)
    {
        foreach (var dir in pinDirs)
            Assert.IsFalse(Directory.Exists(dir), $"the pin directory {dir} is there: {BpfState.DescribePins(Path.GetFileName(dir))}");
        Assert.IsTrue(hooks.Empty, $"{hooks.Device} still runs BPF programs: {hooks}");
    }

    private static void Ip(params string[] args) => Cmd.Check("ip " + string.Join(' ', args), "ip", args, TimeSpan.FromSeconds(15));

    private void Cleanup(string instance, string ns, string tmp, string socket, string[] pinDirs)
    {
        if (pinDirs.Any(Directory.Exists))
        {
            var r = Netns.ExecNetworkOnly(ns, TimeSpan.FromSeconds(30), [.. LabEnvironment.DaemonCommand, "detach", "--instance", instance]);
            TestContext.WriteLine($"cleanup: sfcproxy detach --instance {instance}: exit {r.ExitCode} {r.StdOut.Trim()} {r.StdErr.Trim()}");
            foreach (var dir in pinDirs.Where(Directory.Exists))
                Directory.Delete(dir, recursive: true);
        }
        Cmd.Run("ip", ["netns", "del", ns], TimeSpan.FromSeconds(15));
        Directory.Delete(tmp, recursive: true);
        File.Delete(socket);
    }
}
