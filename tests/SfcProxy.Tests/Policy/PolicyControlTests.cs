using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Policy;
using SfcProxy.Tests.Control;

namespace SfcProxy.Tests.Policy;

/// <summary>policy-status, policy-apply and policy-check over the control socket with a fake policy datapath.</summary>
[TestClass]
public sealed class PolicyControlTests
{
    internal sealed class Daemon : IAsyncDisposable
    {
        public PolicyFiles Files { get; } = new();
        public FakePolicyDatapath Datapath { get; } = new();
        public string PolicyPath { get; }
        public ActivePolicy Policy { get; }
        public ControlServerFixture Server { get; private set; } = null!;

        private Daemon()
        {
            PolicyPath = Files.Write("policy.yaml", PolicyTexts.WebYaml);
            Policy = new ActivePolicy(Datapath, [PolicyPath], NullLogger<ActivePolicy>.Instance);
        }

        /// <summary>Like the daemon: the policy is applied at start (PolicyService), then the socket answers.</summary>
        public static async Task<Daemon> StartAsync()
        {
            var daemon = new Daemon();
            await new PolicyService(daemon.Policy).StartAsync(CancellationToken.None);
            daemon.Datapath.AnswerWith(daemon.Policy.Current!);
            daemon.Server = await ControlServerFixture.StartAsync(policy: daemon.Policy);
            return daemon;
        }

        public async Task<JsonDocument> AskAsync(string line) => JsonDocument.Parse(await Server.AskAsync(line));

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            Files.Dispose();
        }
    }

    [TestMethod]
    public async Task StatusListsIdentitiesAndRulesWithHits()
    {
        await using var daemon = await Daemon.StartAsync();

        using var answer = await daemon.AskAsync("""{"request":"policy-status"}""");

        var policy = answer.RootElement.GetProperty("policy");
        Assert.AreEqual(3, policy.GetProperty("identityCount").GetInt32());
        Assert.AreEqual(4, policy.GetProperty("entryCount").GetInt32());
        var rule = policy.GetProperty("rules")[0];
        Assert.AreEqual("web-from-lb", rule.GetProperty("name").GetString());
        Assert.AreEqual(42ul, rule.GetProperty("hits").GetUInt64());
        Assert.AreEqual(0ul, policy.GetProperty("rules")[1].GetProperty("hits").GetUInt64());
        Assert.AreEqual("app=web,env=prod", policy.GetProperty("identities")[2].GetProperty("labels").GetString());
    }

    [TestMethod]
    public async Task CheckAnswersWithTheDatapathsVerdictAndTheRuleName()
    {
        await using var daemon = await Daemon.StartAsync();

        using var allowed = await daemon.AskAsync("""{"request":"policy-check","src":"198.18.1.2","dst":"198.18.10.3","proto":"tcp","port":80}""");
        using var denied = await daemon.AskAsync("""{"request":"policy-check","src":"192.0.2.1","dst":"198.18.10.3","proto":"tcp","port":80}""");
        using var ping = await daemon.AskAsync("""{"request":"policy-check","src":"2001:db8::1","dst":"2001:2:10::3","proto":"icmp"}""");
        using var bad = await daemon.AskAsync("""{"request":"policy-check","src":"nope","dst":"198.18.10.3","proto":"tcp"}""");

        var check = allowed.RootElement.GetProperty("check");
        Assert.AreEqual("datapath", check.GetProperty("answeredBy").GetString());
        Assert.IsTrue(check.GetProperty("allowed").GetBoolean());
        Assert.AreEqual("web-from-lb", check.GetProperty("rule").GetString());
        var no = denied.RootElement.GetProperty("check");
        Assert.AreEqual("default-deny", no.GetProperty("verdict").GetString());
        Assert.AreEqual("reserved:world", no.GetProperty("srcLabels").GetString());
        Assert.AreEqual("world-ping", ping.RootElement.GetProperty("check").GetProperty("rule").GetString());
        Assert.AreEqual("icmpv6", ping.RootElement.GetProperty("check").GetProperty("protocol").GetString());
        Assert.AreEqual("policy-check: src: 'nope' is not an IPv4 or IPv6 address",
            bad.RootElement.GetProperty("error").GetString());
    }

    [TestMethod]
    public async Task ApplyAsRootRereadsTheFilesAndABadFileChangesNothing()
    {
        await using var daemon = await Daemon.StartAsync();
        File.AppendAllText(daemon.PolicyPath, "\n  - {name: lb-from-all, from: {}, to: {matchLabels: {app: lb}}}\n");

        using var applied = await daemon.AskAsync("""{"request":"policy-apply"}""");

        Assert.IsTrue(applied.RootElement.GetProperty("ok").GetBoolean(), applied.RootElement.ToString());
        Assert.AreEqual(3, applied.RootElement.GetProperty("applied").GetProperty("ruleCount").GetInt32());
        Assert.HasCount(2, daemon.Datapath.Applied);
        Assert.AreEqual(4 + 3, daemon.Datapath.Applied[1].Rules.Count);

        File.AppendAllText(daemon.PolicyPath, "  - {name: broken, from: {}, to: {}, ports: [{protocol: tcp, port: 99999}]}\n");
        using var refused = await daemon.AskAsync("""{"request":"policy-apply"}""");

        Assert.IsFalse(refused.RootElement.GetProperty("ok").GetBoolean());
        StringAssert.Contains(refused.RootElement.GetProperty("errors")[0].GetString(), "rules[3] 'broken': ports[0].port: 99999 is out of range 1..65535");
        Assert.HasCount(2, daemon.Datapath.Applied, "nothing applied");
        Assert.HasCount(3, daemon.Policy.Current!.Rules, "the policy in force is unchanged");
    }

    [TestMethod]
    public async Task WithoutThePolicyModuleThePolicyRequestsSaySo()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        string answer = await fixture.AskAsync("""{"request":"policy-status"}""");

        Assert.AreEqual("""{"ok":false,"error":"policy-status: the policy module is not enabled on this instance (SfcProxy:Policy:Files is empty)"}""", answer);
    }

    [TestMethod]
    public async Task NobodyMayCheckButNotApply()
    {
        await using var daemon = await Daemon.StartAsync();
        File.SetUnixFileMode(daemon.Server.Directory, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(daemon.Server.SocketPath, (UnixFileMode)0b110_110_110);

        string[] answers = await AskAsNobodyAsync(daemon.Server.SocketPath,
            """{"request":"policy-check","src":"198.18.1.2","dst":"198.18.10.3","proto":"tcp","port":443}""",
            """{"request":"policy-apply"}""");

        StringAssert.StartsWith(answers[0], """{"ok":true,"check":{"answeredBy":"datapath","allowed":true""");
        Assert.AreEqual("""{"ok":false,"error":"policy-apply needs root (peer uid 65534)"}""", answers[1]);
        Assert.HasCount(1, daemon.Datapath.Applied, "only the start applied");
    }

    internal static async Task<string[]> AskAsNobodyAsync(string socketPath, params string[] requests)
    {
        const string client = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            f = s.makefile("rw")
            for line in sys.argv[2:]:
                f.write(line + "\n"); f.flush()
                print(f.readline().rstrip("\n"))
            """;
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", client, socketPath, .. requests])
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        string error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.AreEqual(0, process.ExitCode, $"setpriv failed: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
