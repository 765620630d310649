using System.Diagnostics;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The identity-based policy module in the real daemon against real TCP connections
/// (<see cref="PolicyLab"/>: client-a 198.18.30.1, client-b .3 and server .2 on a bridge whose three
/// ports run policy_tc at tc ingress and egress; echo servers on server:5201/5202 and client-a:5201).
/// Policy: endpoints client-a {app: a}, client-b {app: b}, server {app: server}; rule
/// a-to-server-5201 (app=a -> app=server tcp/5201). "Allowed" = connect and echo within 2 s;
/// "denied" = no echo within 2 s (the SYN is dropped at the switch). IPv4 and IPv6.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class PolicyEndToEndTests
{
    private const int P1 = PolicyLab.AllowedPort, P2 = PolicyLab.OtherPort;
    private const string A4 = PolicyLab.A4, S4 = PolicyLab.S4, B4 = PolicyLab.B4;
    private const string A6 = PolicyLab.A6, S6 = PolicyLab.S6, B6 = PolicyLab.B6;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// Allowed, default-denied and not-enforced traffic; `policy check` gives the same verdicts from
    /// the datapath; `policy ls` counts hits on the rule; SIGTERM leaves nothing attached.
    /// </summary>
    [TestMethod]
    public void Policy_AllowsRule_DeniesByDefault_RepliesPass_CheckAndHitsAgree()
    {
        var clock = Stopwatch.StartNew();
        using var lab = PolicyLab.Up(TestContext);
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.RuleA));
        lab.WriteConfig();
        AssertLabWorks(lab);

        var daemon = lab.StartDaemon();
        foreach (var h in lab.PortHooks())
        {
            Assert.IsNotEmpty(h.TcxIngress, $"no tcx ingress program (policy_tc) on bridge port {h.Device}: {h}");
        }

        lab.AssertReachability("policy a-to-server-5201", daemon,
            (lab.ClientA, S4, P1, true), (lab.ClientA, S6, P1, true),     // the rule, replies by conntrack
            (lab.ClientA, S4, P2, false), (lab.ClientA, S6, P2, false),   // server enforced: default deny
            (lab.ClientB, S4, P1, false), (lab.ClientB, S6, P1, false),   // no rule from app=b
            (lab.Server, A4, P1, true), (lab.Server, A6, P1, true));      // client-a is not enforced; replies by conntrack

        PolicyLab.AssertCheck(daemon, A4, S4, P1, "rule", "a-to-server-5201");
        PolicyLab.AssertCheck(daemon, A6, S6, P1, "rule", "a-to-server-5201");
        PolicyLab.AssertCheck(daemon, A4, S4, P2, "default-deny");
        PolicyLab.AssertCheck(daemon, B4, S4, P1, "default-deny");
        PolicyLab.AssertCheck(daemon, B6, S6, P1, "default-deny");
        PolicyLab.AssertCheck(daemon, S4, A4, P1, "not-enforced");
        PolicyLab.AssertCheck(daemon, S6, A6, P1, "not-enforced");

        // The switch judged real packets: denied SYNs (4 attempts, with retransmissions) and replies by conntrack.
        Assert.IsGreaterThanOrEqualTo(4UL, lab.PolicyCounter(BpfState.PolicyCounter.DeniedDefault), "pol_counters denied_default");
        Assert.IsGreaterThan(0UL, lab.PolicyCounter(BpfState.PolicyCounter.AllowedReply), "pol_counters allowed_reply");

        // Two allowed connections (v4, v6), each at least SYN, ACK and the data segment forward.
        var hits = PolicyLab.RuleHits(daemon);
        lab.Log($"rule hits: {string.Join(", ", hits)}");
        Assert.IsTrue(hits.TryGetValue("a-to-server-5201", out var h1), $"policy ls has no rule a-to-server-5201: {string.Join(", ", hits.Keys)}");
        Assert.IsGreaterThanOrEqualTo(6UL, h1, "hits of a-to-server-5201 after two allowed connections");

        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM: {stop}\n{daemon.Process.Describe(3000)}");
        lab.AssertNothingAttached("after SIGTERM (DetachOnStop default)");
        lab.Log($"test body took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// The policy on the server's own interface (the daemon in the server namespace, Policy:Interfaces
    /// its eth0): the server's inbound is enforced (a in on the rule, b out), and the server, an
    /// enforced endpoint, is a client too: its own connections and pings get their replies, which
    /// enter by the same eth0 (their opening packets left by its egress, where the policy tracks them).
    /// </summary>
    [TestMethod]
    public void PolicyOnTheServersOwnInterface_EnforcesItsInbound_AndItsOwnConnectionsGetReplies()
    {
        using var lab = PolicyLab.Up(TestContext);
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.RuleA));
        lab.WriteConfig(PolicyLab.Placement.ServerHost);
        var daemon = lab.StartDaemon();
        foreach (var h in lab.PortHooks())
        {
            Assert.IsTrue(h.TcxIngress.Length > 0 && h.TcxEgress.Length > 0, $"policy_tc should run at tcx ingress and egress of {h.Device}: {h}");
        }

        lab.AssertReachability("policy a-to-server-5201 on the server's eth0", daemon,
            (lab.ClientA, S4, P1, true), (lab.ClientA, S6, P1, true),     // the rule
            (lab.ClientB, S4, P1, false), (lab.ClientB, S6, P1, false),   // server enforced: default deny
            (lab.ClientA, S4, P2, false),
            (lab.Server, A4, P1, true), (lab.Server, A6, P1, true));      // the server as a client: the SYN-ACK comes in
        foreach (var dst in new[] { A4, A6 })
        {
            var ping = Netns.Exec(lab.Server, TimeSpan.FromSeconds(15), LabEnvironment.Python, LabEnvironment.Ping, dst, "--count", "2", "--timeout", "2");
            Assert.AreEqual(0, ping.ExitCode, $"the server's ping to {dst} should get its echo replies through the policy:\n{ping}\n{daemon.Process.Describe(3000)}");
        }
        Assert.IsGreaterThan(0UL, lab.PolicyCounter(BpfState.PolicyCounter.AllowedReply), "pol_counters allowed_reply");

        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM: {stop}\n{daemon.Process.Describe(3000)}");
        lab.AssertNothingAttached("after SIGTERM");
    }

    /// <summary>
    /// `policy apply` swaps the rules while a connection a -> server:5201 is open: b gets in, a's new
    /// connections are denied, and a's open connection stops at once (the datapath judges every
    /// packet of a tracked connection by the policy in force: its opening is no longer allowed).
    /// Re-applying the original lets a connect again and the open connection resume (its conntrack
    /// entry was kept). A file with an error is refused naming the rule and the field,
    /// and the policy in force stays.
    /// </summary>
    [TestMethod]
    public void PolicyApply_SwapsRulesUnderOpenConnection_RejectsBadFileKeepingPolicy()
    {
        var clock = Stopwatch.StartNew();
        using var lab = PolicyLab.Up(TestContext);
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.RuleA));
        lab.WriteConfig();
        var daemon = lab.StartDaemon();

        var held = lab.Track(Netns.Start(lab.ClientA, LabEnvironment.Python, LabEnvironment.PolicyTcp, "hold",
            "--dst", S4, "--port", P1.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--trigger-dir", lab.TriggerDir, "--probes", "before,revoked,restored"));
        held.WaitForLine("OPEN", TimeSpan.FromSeconds(10), "open connection a -> server:5201 (policy_tcp.py hold)");
        Assert.AreEqual("echo", Probe(lab, held, "before", 3), "the open connection echoes under the original policy");

        // 1. b in, a out.
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.RuleB));
        Apply(daemon, "b-only policy");
        lab.AssertReachability("after apply of b-to-server-5201 (a's rule removed)", daemon,
            (lab.ClientB, S4, P1, true), (lab.ClientB, S6, P1, true),
            (lab.ClientA, S4, P1, false), (lab.ClientA, S6, P1, false));
        PolicyLab.AssertCheck(daemon, B4, S4, P1, "rule", "b-to-server-5201");
        PolicyLab.AssertCheck(daemon, A4, S4, P1, "default-deny");
        var hits = PolicyLab.RuleHits(daemon);
        Assert.AreEqual("b-to-server-5201", string.Join(",", hits.Keys), "policy ls after the swap lists only the new rule");
        Assert.IsGreaterThan(0UL, hits["b-to-server-5201"], "b's connections hit the new rule");

        // The documented choice (stricter than Cilium and nftables): packets of open connections are
        // judged by the policy in force, so the removed rule stops a's open connection too; each of its
        // denied packets counts ct_revoked.
        var revokedBefore = lab.PolicyCounter(BpfState.PolicyCounter.CtRevoked);
        Assert.AreEqual("timeout", Probe(lab, held, "revoked", 3),
            "the open connection a -> server:5201 still echoes after its rule was removed: its packets should be judged by the new policy");
        var revokedAfter = lab.PolicyCounter(BpfState.PolicyCounter.CtRevoked);
        lab.Log($"ct_revoked {revokedBefore} -> {revokedAfter}, denied_default {lab.PolicyCounter(BpfState.PolicyCounter.DeniedDefault)}");
        Assert.IsGreaterThan(revokedBefore, revokedAfter,
            "the held connection's denied packets should count as revoked (pol_counters ct_revoked)");

        // 2. Back to the original.
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.RuleA));
        Apply(daemon, "original policy");
        lab.AssertReachability("after re-applying a-to-server-5201", daemon,
            (lab.ClientA, S4, P1, true), (lab.ClientA, S6, P1, true),
            (lab.ClientB, S4, P1, false));
        // TCP retransmits the dropped probe; the connection is allowed again, both echoes come back.
        Assert.AreEqual("echo", Probe(lab, held, "restored", 10),
            "the open connection did not recover after the rule came back (retransmissions should pass again)");

        // 3. A file with an error changes nothing.
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.Rule("a-to-server-5201", "a", "server", "tcp", "70000")));
        var bad = daemon.Cli("policy", "apply");
        lab.Log($"apply of a bad file: {bad}");
        Assert.AreNotEqual(0, bad.ExitCode, $"policy apply of a file with an error should fail:\n{bad}");
        foreach (var part in new[] { lab.PolicyPath, "rules[0] 'a-to-server-5201'", "ports[0].port", "70000" })
        {
            StringAssert.Contains(bad.StdErr + bad.StdOut, part, $"the apply error should name {part}:\n{bad}");
        }
        Assert.IsFalse(daemon.Process.HasExited, $"a bad policy file stopped the daemon.\n{daemon.Process.Describe(3000)}");
        lab.AssertReachability("after a refused apply (original policy still in force)", daemon,
            (lab.ClientA, S4, P1, true), (lab.ClientB, S4, P1, false));
        PolicyLab.AssertCheck(daemon, A4, S4, P1, "rule", "a-to-server-5201");

        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM: {stop}\n{daemon.Process.Describe(3000)}");
        lab.AssertNothingAttached("after SIGTERM");
        lab.Log($"test body took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>A policy file with an error at start: the daemon exits non-zero naming the file, the
    /// rule and the field, and attaches nothing (no policy_tc, no proxy programs, no pins).</summary>
    [TestMethod]
    public void BadPolicyFileAtStart_DaemonExitsNamingRuleAndField_AttachesNothing()
    {
        using var lab = PolicyLab.Up(TestContext, echoServers: false);
        lab.WritePolicy(PolicyLab.PolicyYaml(PolicyLab.RuleA, PolicyLab.Rule("b-to-server-5201", "b", "server", "sctp", "5201")));
        lab.WriteConfig();

        var daemon = lab.StartDaemonProcess();
        if (!daemon.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            Assert.Fail($"sfcproxy kept running with a bad policy file.\n{daemon.Describe()}\n{string.Join('\n', lab.PortHooks())}");
        }
        lab.Log($"daemon: {daemon.Describe(3000)}");
        Assert.AreNotEqual(0, daemon.ExitCode, $"sfcproxy should exit non-zero with a bad policy file.\n{daemon.Describe()}");
        var output = daemon.StdOut + daemon.StdErr;
        foreach (var part in new[] { lab.PolicyPath, "rules[1] 'b-to-server-5201'", "ports[0].protocol", "'sctp'" })
        {
            StringAssert.Contains(output, part, $"the start error should name {part}.\n{daemon.Describe()}");
        }
        Assert.IsFalse(File.Exists(lab.SocketPath), $"a control socket {lab.SocketPath} was left behind");
        lab.AssertNothingAttached("after a start with a bad policy file");
    }

    /// <summary>Before the daemon, every connection the tests use works (so a later failure is the policy's).</summary>
    private static void AssertLabWorks(PolicyLab lab) =>
        lab.AssertReachability("lab without sfcproxy", null,
            (lab.ClientA, S4, P1, true), (lab.ClientA, S6, P2, true), (lab.ClientB, S4, P1, true), (lab.ClientB, S6, P1, true),
            (lab.Server, A4, P1, true), (lab.Server, A6, P1, true));

    private static void Apply(SfcProxyDaemon daemon, string what)
    {
        var r = daemon.Cli("policy", "apply");
        if (r.ExitCode != 0)
        {
            Assert.Fail($"sfcproxy policy apply ({what}) failed:\n{r}\n{daemon.Process.Describe(3000)}");
        }
    }

    /// <summary>Sends probe <paramref name="name"/> on the held connection: "echo" or "timeout".</summary>
    private static string Probe(PolicyLab lab, LabProcess held, string name, double timeoutSeconds)
    {
        var mark = held.Mark();
        lab.Trigger(name, timeoutSeconds);
        var said = held.WaitForOutput($"PROBE {name} ", mark, TimeSpan.FromSeconds(timeoutSeconds + 10))
            ?? throw new AssertFailedException($"no answer to probe {name} on the held connection.\n{held.Describe()}");
        var line = said.Split('\n').First(l => l.StartsWith($"PROBE {name} ", StringComparison.Ordinal)).Trim();
        lab.Log($"held connection: {line}");
        return line.Split(' ')[2];
    }
}
