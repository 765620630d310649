using System.Text.Json.Nodes;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// Values that used to validate and then surprise, through the real `sfcproxy run`: a bare number
/// for Cache:MaxAge (was five days), a duration the CLI accepts ("5s", was refused), a MaxAge out of
/// bounds, an empty Encapsulations list (was MPLS) and an empty Instance (was "default") are refused
/// with exit 2 before anything is attached, naming the field; and a SIGHUP that changes the policy
/// module's settings says they need a restart instead of "Reloaded" alone.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ConfigValueTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void SurprisingValues_AreRefusedByRun_NamingTheField_NothingAttached()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1), needBpftool: true);
        var cases = new (string Field, Action<JsonObject> Edit)[]
        {
            ("SfcProxy:Cache:MaxAge", p => p["Cache"]!["MaxAge"] = "5"),
            ("SfcProxy:Cache:MaxAge", p => p["Cache"]!["MaxAge"] = "2h"),
            ("SfcProxy:Cache:MaxAge", p => p["Cache"]!["MaxAge"] = "0s"),
            ("SfcProxy:Encapsulations", p => p["Encapsulations"] = new JsonArray()),
            ("SfcProxy:Instance", p => p["Instance"] = ""),
            ("SfcProxy:Socket:Path", p => p["Socket"]!["Path"] = " "),
        };
        foreach (var (field, edit) in cases)
        {
            var config = lab.WriteConfig(edit);
            var text = File.ReadAllText(config);
            var run = lab.LaunchDaemon(config);
            var output = lab.AssertRefused(run, $"config with a surprising {field}");
            Assert.AreEqual(2, run.ExitCode, $"a bad config exits 2:\n{text}\n{output}");
            StringAssert.Contains(output, field, $"the refusal should name {field}:\n{text}\n{output}");
            lab.AssertFullyDetached($"after refusing:\n{text}\n{output}");
        }
    }

    [TestMethod]
    public void MaxAgeWrittenLikeTheCli_IsAccepted()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 1) { PacketCount = 400 });
        lab.PingPlainIp();
        var daemon = lab.StartDaemon(lab.WriteConfig(p => p["Cache"]!["MaxAge"] = "1500ms"));
        var receiver = lab.StartReceiver();
        var send = lab.Send();
        var r = lab.WaitForResult(receiver);
        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        ScenarioLab.AssertAllOk(r, lab.Diagnostics(r, send.StdOut, "", lab.VnfCounters(), stop, daemon.Process.Describe(3000)));
        Assert.AreEqual(0, daemon.Process.ExitCode, daemon.Process.Describe(3000));
    }

    [TestMethod]
    public void SighupChangingThePolicyModule_SaysItNeedsARestart()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 1), needBpftool: true);
        var policy = Path.Combine(lab.Tmp, "policy.yaml");
        File.WriteAllText(policy, """
            endpoints:
              - name: receiver
                cidrs: ["198.18.2.0/24"]
                labels: {app: receiver}
            rules:
              - name: anything-to-receiver
                from: {}
                to: {matchLabels: {app: receiver}}
            """);
        var config = lab.WriteConfig(p => p["Policy"] = new JsonObject
        {
            ["Files"] = new JsonArray(policy),
            ["Interfaces"] = new JsonArray(lab.Topo.ProxyEgress),
        });
        var daemon = lab.StartDaemon(config);
        var mark = daemon.Process.Mark();
        SfcProxyDaemon.EditConfig(config, p => p["Policy"]!["Interfaces"] = new JsonArray(lab.Topo.ProxyIngress));
        daemon.Reload();
        var said = daemon.Process.WaitForOutput("SfcProxy:Policy", mark, TimeSpan.FromSeconds(10));
        Assert.IsNotNull(said, $"a SIGHUP that changes Policy:Interfaces did not mention it.\n{daemon.Process.Describe(4000)}");
        StringAssert.Contains(said, "restart", $"the Policy change should be reported as needing a restart:\n{said}");
        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, daemon.Process.ExitCode, $"{stop}\n{daemon.Process.Describe(3000)}");
    }
}
