using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using SfcProxy.Bpf;
using SfcProxy.Net;
using SfcProxy.Policy;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Policy;

/// <summary>
/// policy_tc (and policy_xdp) in the real kernel through BPF_PROG_TEST_RUN: a table of fixtures
/// (description, packet, verdict, the one outcome counter that must move), then the stateful
/// cases (conntrack, table swap, rule count, hit counters).
/// </summary>
[TestClass]
public sealed class PolicyDatapathTests
{
    public TestContext TestContext { get; set; } = null!;

    // Identities of the fixture model.
    private const uint Web = 300, Db = 301, Client = 256, Open = 302;
    private const uint RuleWeb80 = 1, RuleClientDbUdp = 2, RuleWebDbAny = 3, RuleWorldIcmp = 4, RuleV6 = 5;

    /// <summary>client 198.18.1.0/24, web 198.18.2.0/24, db 198.18.3.0/24 (+ 2001:2:3::/64), open 198.18.4.0/24.</summary>
    private static readonly PolicyTables Model = new(
        [
            Prefix("198.18.1.0/24", Client), Prefix("198.18.2.0/24", Web), Prefix("198.18.3.0/24", Db),
            Prefix("2001:2:3::/64", Db), Prefix("2001:2:1::/64", Client), Prefix("198.18.4.0/24", Open),
        ],
        [Web, Db],
        [
            new(Client, Web, 6, 80, RuleWeb80),          // exact port
            new(Client, Db, 17, 0, RuleClientDbUdp),     // any UDP port
            new(Web, Db, 0, 0, RuleWebDbAny),            // any protocol
            new(ReservedIdentity.World, Web, 1, 0, RuleWorldIcmp), // world may ping web
            new(Client, Db, 6, 5432, RuleV6),            // used by the IPv6 case
        ]);

    /// <param name="TcRunnable">false where BPF_PROG_TEST_RUN refuses the skb (EINVAL: an IP
    /// ethertype with less than a whole IP header); those run
    /// through policy_xdp only, which shares the parser.</param>
    internal sealed record Case(string Name, byte[] Frame, bool Allowed, PolicyCounter Outcome, uint Rule = 0, bool TcRunnable = true);

    private static readonly Dictionary<string, Case> Cases = Build().ToDictionary(c => c.Name);

    public static IEnumerable<object[]> CaseNames => Cases.Keys.Select(k => new object[] { k });

    private static IEnumerable<Case> Build()
    {
        Packet V4(string s, string d) => Packet.Eth().IPv4(s, d);
        yield return new("exact-port-allowed", V4("198.18.1.5", "198.18.2.7").Tcp(40000, 80, flags: 0x02).Build(), true, PolicyCounter.AllowedRule, RuleWeb80);
        yield return new("exact-port-other-port-denied", V4("198.18.1.5", "198.18.2.7").Tcp(40000, 81).Build(), false, PolicyCounter.DeniedDefault);
        yield return new("any-port-udp-allowed", V4("198.18.1.5", "198.18.3.9").Udp(40000, 53).Build(), true, PolicyCounter.AllowedRule, RuleClientDbUdp);
        yield return new("any-proto-tcp-allowed", V4("198.18.2.7", "198.18.3.9").Tcp(40000, 22).Build(), true, PolicyCounter.AllowedRule, RuleWebDbAny);
        yield return new("any-proto-raw-allowed", V4("198.18.2.7", "198.18.3.9").Payload(16).Build(), true, PolicyCounter.AllowedRule, RuleWebDbAny);
        yield return new("enforced-no-rule-denied", V4("198.18.3.9", "198.18.2.7").Tcp(40000, 80).Build(), false, PolicyCounter.DeniedDefault);
        yield return new("not-enforced-allowed", V4("198.18.3.9", "198.18.4.1").Tcp(40000, 9999).Build(), true, PolicyCounter.AllowedNotEnforced);
        yield return new("world-to-open-allowed", V4("203.0.113.9", "198.18.1.5").Udp(40000, 9).Build(), true, PolicyCounter.AllowedNotEnforced);
        yield return new("world-tcp-to-web-denied", V4("203.0.113.9", "198.18.2.7").Tcp(40000, 80).Build(), false, PolicyCounter.DeniedDefault);
        yield return new("world-icmp-to-web-allowed", V4("203.0.113.9", "198.18.2.7").IcmpEcho(7, 1).Build(), true, PolicyCounter.AllowedRule, RuleWorldIcmp);
        yield return new("ipv6-exact-allowed", Packet.Eth().IPv6("2001:2:1::5", "2001:2:3::9").Tcp(40000, 5432).Build(), true, PolicyCounter.AllowedRule, RuleV6);
        yield return new("ipv6-denied", Packet.Eth().IPv6("2001:2:1::5", "2001:2:3::9").Tcp(40000, 80).Build(), false, PolicyCounter.DeniedDefault);
        // A unicast neighbour solicitation to an enforced address: IPv6 needs it whatever the rules.
        yield return new("ipv6-neighbour-solicitation-exempt", Packet.Eth().IPv6("2001:2:1::5", "2001:2:3::9", nextHeader: 58)
            .Payload([135, 0, 0, 0, .. new byte[20]]).Build(), true, PolicyCounter.AllowedNd);
        yield return new("ipv6-world-open-allowed", Packet.Eth().IPv6("2001:2:9::1", "2001:2:8::1").Udp().Build(), true, PolicyCounter.AllowedNotEnforced);
        yield return new("vlan-qinq-allowed", Packet.Eth().Vlan(200, tpid: 0x88A8).Vlan(100).IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 80).Build(), true, PolicyCounter.AllowedRule, RuleWeb80);
        yield return new("vlan-denied", Packet.Eth().Vlan(100).IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 443).Build(), false, PolicyCounter.DeniedDefault);
        yield return new("arp-not-ip", Packet.Eth(etherType: 0x0806).Payload(28).Build(), true, PolicyCounter.NotIp);
        yield return new("three-vlans-not-ip", Packet.Eth().Vlan(1).Vlan(2).Vlan(3).IPv4("198.18.1.5", "198.18.2.7").Tcp().Build(), true, PolicyCounter.NotIp);
        // Malformed: every header cut short.
        var full = Packet.Eth().IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 80).Build();
        // (A frame shorter than Ethernet cannot be tested: BPF_PROG_TEST_RUN refuses it for tc and XDP.)
        yield return new("truncated-ipv4", full[..(14 + 12)], false, PolicyCounter.Malformed, TcRunnable: false);
        yield return new("truncated-tcp", full[..(14 + 20 + 10)], false, PolicyCounter.Malformed);
        var bad = (byte[])full.Clone();
        bad[14] = 0x43; // IHL 3
        yield return new("ipv4-ihl-too-small", bad, false, PolicyCounter.Malformed);
        var udp = Packet.Eth().IPv6("2001:2:1::5", "2001:2:3::9").Udp(40000, 53).Build();
        yield return new("truncated-ipv6", udp[..(14 + 30)], false, PolicyCounter.Malformed, TcRunnable: false);
        yield return new("truncated-udp", udp[..(14 + 40 + 4)], false, PolicyCounter.Malformed);
        var icmp = Packet.Eth().IPv4("203.0.113.9", "198.18.2.7").IcmpEcho().Build();
        yield return new("truncated-icmp", icmp[..(14 + 20 + 6)], false, PolicyCounter.Malformed);
        var vlan = Packet.Eth().Vlan(100).IPv4().Build();
        yield return new("truncated-vlan", vlan[..16], false, PolicyCounter.Malformed);
    }

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void Fixture(string name)
    {
        var c = Cases[name];
        using var policy = new PolicyUnderTest(withXdp: true);
        policy.Objects.Apply(Model);

        if (c.TcRunnable)
        {
            var r = policy.RunTc(c.Frame);
            Assert.AreEqual(c.Allowed ? PolicyProbe.TcOk : PolicyProbe.TcShot, r, $"{c.Name}: tc verdict");
        }
        else
        {
            Assert.AreEqual(c.Allowed ? 2u : 1u, ProxyTestRunsXdp(policy.Objects.Xdp, c.Frame), $"{c.Name}: xdp verdict");
        }
        var moved = policy.MovedOutcomes();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(c.Outcome), $"{c.Name}: {c.Outcome} must count it; moved: {Format(moved)}");
        Assert.AreEqual(1ul, moved.Values.Aggregate(0ul, (a, b) => a + b), $"{c.Name}: exactly one outcome; moved: {Format(moved)}");
        if (c.Rule != 0)
            Assert.AreEqual(1ul, policy.Objects.ReadRuleHits([c.Rule])[c.Rule], $"{c.Name}: hit of rule {c.Rule}");

        // The XDP variant shares the logic: same verdict (it sees a fresh conntrack-free packet for
        // denials; allowed packets are now tracked, which does not change a forward verdict).
        var x = ProxyTestRunsXdp(policy.Objects.Xdp, c.Frame);
        Assert.AreEqual(c.Allowed ? 2u : 1u, x, $"{c.Name}: xdp verdict");
    }

    [TestMethod]
    public void CheckReportsVerdictAndRuleWithoutSideEffects()
    {
        using var policy = new PolicyUnderTest();
        policy.Objects.Apply(Model);
        var (allowed, rule, reason) = policy.Objects.Check(IPAddress.Parse("198.18.1.5"), IPAddress.Parse("198.18.2.7"), 6, 80);
        Assert.IsTrue(allowed, reason);
        Assert.AreEqual(RuleWeb80, rule);
        var denied = policy.Objects.Check(IPAddress.Parse("198.18.1.5"), IPAddress.Parse("198.18.2.7"), 6, 22);
        Assert.IsFalse(denied.Allowed, denied.Reason);
        Assert.AreEqual(PolicyCounter.DeniedDefault, denied.Outcome);
        Assert.AreEqual((Client, Web), (denied.SourceIdentity, denied.DestinationIdentity));
        var v6 = policy.Objects.Check(IPAddress.Parse("2001:2:1::5"), IPAddress.Parse("2001:2:3::9"), 6, 5432);
        Assert.AreEqual((true, RuleV6), (v6.Allowed, v6.RuleId), v6.Reason);
        var ping = policy.Objects.Check(IPAddress.Parse("203.0.113.1"), IPAddress.Parse("198.18.2.7"), 1, 0);
        Assert.AreEqual((true, RuleWorldIcmp, ReservedIdentity.World), (ping.Allowed, ping.RuleId, ping.SourceIdentity), ping.Reason);
        var open = policy.Objects.Check(IPAddress.Parse("198.18.1.5"), IPAddress.Parse("198.18.4.4"), 17, 9);
        Assert.AreEqual((true, 0u, PolicyCounter.AllowedNotEnforced), (open.Allowed, open.RuleId, open.Outcome), open.Reason);

        Assert.IsEmpty(policy.MovedOutcomes(), "checks count nothing");
        Assert.AreEqual(0, policy.Objects.Conntrack.Count(), "checks track nothing");
    }

    [TestMethod]
    public void ReplyOfAnAllowedFlowPasses()
    {
        using var policy = new PolicyUnderTest(withXdp: true);
        policy.Objects.Apply(Model);
        // Web is enforced and nothing allows web -> client... but client is not enforced, so use
        // web -> db (db enforced; web -> db allowed by any-proto) and check db -> web (web enforced).
        var forward = Packet.Eth().IPv4("198.18.2.7", "198.18.3.9").Tcp(41000, 5432, flags: 0x02).Build();
        var reply = Packet.Eth().IPv4("198.18.3.9", "198.18.2.7").Tcp(5432, 41000, flags: 0x12).Build();
        var otherReply = Packet.Eth().IPv4("198.18.3.9", "198.18.2.7").Tcp(5432, 41001, flags: 0x12).Build();

        Assert.AreEqual(PolicyProbe.TcShot, policy.RunTc(reply), "reply before any forward packet: db -> web has no rule");
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(forward), "forward allowed by rule");
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(reply), "reply of the tracked connection");
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(reply), "and again");
        Assert.AreEqual(2u, ProxyTestRunsXdp(policy.Objects.Xdp, reply), "the XDP program sees the same conntrack");
        Assert.AreEqual(PolicyProbe.TcShot, policy.RunTc(otherReply), "another port is another connection");

        var moved = policy.MovedOutcomes();
        Assert.AreEqual(3ul, moved.GetValueOrDefault(PolicyCounter.AllowedReply), Format(moved));
        Assert.AreEqual(2ul, moved.GetValueOrDefault(PolicyCounter.DeniedDefault), Format(moved));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(PolicyCounter.AllowedRule), Format(moved));
        Assert.AreEqual(1ul, policy.Objects.ReadCounters()[PolicyCounter.CtCreated]);

        // ICMP: the echo id pairs request and reply.
        var echo = Packet.Eth().IPv4("203.0.113.9", "198.18.2.7").IcmpEcho(77, 1).Build();
        var echoReply = Packet.Eth().IPv4("198.18.2.7", "203.0.113.9").IcmpEcho(77, 1).Build();
        echoReply[14 + 20] = 0; // type 0: echo reply (the checksum is not the policy's business)
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(echo));
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(echoReply));
        Assert.AreEqual(4ul, policy.MovedOutcomes().GetValueOrDefault(PolicyCounter.AllowedReply) - 0ul, "echo reply is a reply too");
    }

    [TestMethod]
    public void ReplyWithoutForwardIsDroppedWhenTheDestinationIsEnforced()
    {
        using var policy = new PolicyUnderTest();
        policy.Objects.Apply(Model);
        var reply = Packet.Eth().IPv4("198.18.3.9", "198.18.2.7").Tcp(5432, 41000, flags: 0x12).Build();
        Assert.AreEqual(PolicyProbe.TcShot, policy.RunTc(reply));
        Assert.AreEqual(1ul, policy.MovedOutcomes().GetValueOrDefault(PolicyCounter.DeniedDefault));
        Assert.AreEqual(0, policy.Objects.Conntrack.Count());
    }

    [TestMethod]
    public void ApplySwapsTablesWhole()
    {
        using var policy = new PolicyUnderTest();
        var a = Model;
        // Web and db are both enforced and nothing allows db -> web: only conntrack passes replies.
        var b = Model with { Rules = [.. Model.Rules.Where(r => r.RuleId != RuleWebDbAny)] };
        var flow1Syn = Packet.Eth().IPv4("198.18.2.7", "198.18.3.9").Tcp(40000, 5432, flags: 0x02).Build();
        var flow1 = Packet.Eth().IPv4("198.18.2.7", "198.18.3.9").Tcp(40000, 5432).Build();
        var flow2 = Packet.Eth().IPv4("198.18.2.8", "198.18.3.9").Tcp(40001, 5432, flags: 0x02).Build();
        var flow1Reply = Packet.Eth().IPv4("198.18.3.9", "198.18.2.7").Tcp(5432, 40000).Build();

        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(flow1Syn), "before any Apply: no tables, allow all");
        Assert.AreEqual(1ul, policy.Objects.ReadCounters()[PolicyCounter.NoTables]);
        policy.Objects.Conntrack.Delete(policy.Objects.Conntrack.Keys<PolCtKey>().Single());

        policy.Objects.Apply(a);
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(flow1Syn), "A allows web -> db");
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(flow1Reply), "A: its reply");
        policy.Objects.Apply(b);
        Assert.AreEqual(PolicyProbe.TcShot, policy.RunTc(flow2), "B: a new flow is denied");
        Assert.AreEqual(PolicyProbe.TcShot, policy.RunTc(flow1Reply), "B: the open connection's replies stop at once (its opening is judged by B)");
        Assert.AreEqual(PolicyProbe.TcShot, policy.RunTc(flow1), "B: and its forward direction");
        Assert.AreEqual(2ul, policy.Objects.ReadCounters()[PolicyCounter.CtRevoked], "both belonged to the tracked connection");
        policy.Objects.Apply(a);
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(flow1Reply), "A again: the connection resumes (conntrack kept across Apply)");
        Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(flow2), "A again: a new flow");
        for (var i = 0; i < 3; i++)
            policy.Objects.Apply(i % 2 == 0 ? b : a);
        Assert.AreEqual(PolicyProbe.TcShot, policy.RunTc(Packet.Eth().IPv4("198.18.2.9", "198.18.3.9").Tcp(40002, 5432).Build()), "B after flips");
        policy.Objects.State.TryLookup(0u, out PolState state);
        Assert.AreEqual(6u, state.Applies);
        Assert.IsTrue(policy.Objects.Identities.HasInner(state.Active) && policy.Objects.Rules.HasInner(state.Active), "live slot filled");
        Assert.IsFalse(policy.Objects.Identities.HasInner(state.Active ^ 1) || policy.Objects.Rules.HasInner(state.Active ^ 1), "old slot freed");
    }

    [TestMethod]
    public void TenThousandRulesGiveTheSameVerdictsAsOne()
    {
        // One rule that matters, plus 9,999 others between identities no packet has.
        var one = new PolicyTables(Model.Prefixes, [Web], [new(Client, Web, 6, 80, 1)]);
        var many = one with
        {
            EnforcedIdentities = [Web, .. Enumerable.Range(0, 9_999).Select(i => 1000u + (uint)i)],
            Rules = [.. one.Rules, .. Enumerable.Range(0, 9_999).Select(i => new RuleEntry(Client, 1000u + (uint)i, 6, (ushort)(1 + i % 60000), 2u + (uint)i))],
        };
        var packets = new (string Name, byte[] Frame)[]
        {
            ("allowed", Packet.Eth().IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 80).Build()),
            ("denied-port", Packet.Eth().IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 81).Build()),
            ("denied-world", Packet.Eth().IPv4("203.0.113.1", "198.18.2.7").Udp(40000, 80).Build()),
            ("open", Packet.Eth().IPv4("198.18.1.5", "198.18.3.7").Udp(40000, 80).Build()),
        };
        var results = new Dictionary<string, (uint[] Verdicts, double Ns)>();
        foreach (var (label, tables) in new[] { ("1 rule", one), ("10,000 rules", many) })
        {
            using var policy = new PolicyUnderTest();
            var sw = Stopwatch.StartNew();
            policy.Objects.Apply(tables);
            var applyMs = sw.Elapsed.TotalMilliseconds;
            // Checks: policy only, no conntrack, so every repetition takes the full lookup path.
            var verdicts = packets.Select(p => policy.Objects.Check(
                IPAddress.Parse(p.Name == "denied-world" ? "203.0.113.1" : "198.18.1.5"),
                IPAddress.Parse(p.Name == "open" ? "198.18.3.7" : "198.18.2.7"),
                p.Name is "denied-world" or "open" ? (byte)17 : (byte)6, p.Name == "denied-port" ? (ushort)81 : (ushort)80))
                .Select(v => v.Allowed ? 1u : 0u).ToArray();
            // Time the full program with conntrack (a denied packet is never tracked, so it runs
            // every lookup each repetition): average over 100,000 repetitions.
            var ctx = new SkbContext();
            var ns = packets.Select(p => (double)policy.Objects.Tc.TestRun(p.Frame,
                MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref ctx, 1)), 0, repeat: 100_000).DurationNs).ToArray();
            // A reply of a tracked connection: judged again by its connection's opening every time.
            Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(Packet.Eth().IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 80, flags: 0x02).Build()));
            var reply = Packet.Eth().IPv4("198.18.2.7", "198.18.1.5").Tcp(80, 40000, flags: 0x12).Build();
            Assert.AreEqual(PolicyProbe.TcOk, policy.RunTc(reply), $"{label}: the reply");
            var replyNs = policy.Objects.Tc.TestRun(reply, MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref ctx, 1)), 0, repeat: 100_000).DurationNs;
            TestContext.WriteLine($"{label}: apply {applyMs:F1} ms; test-run ns/packet " +
                string.Join(", ", packets.Select((p, i) => $"{p.Name} {ns[i]}")) + $", reply {replyNs}");
            results[label] = (verdicts, ns.Average());
        }
        CollectionAssert.AreEqual(new uint[] { 1, 0, 0, 1 }, results["1 rule"].Verdicts);
        CollectionAssert.AreEqual(results["1 rule"].Verdicts, results["10,000 rules"].Verdicts);
    }

    [TestMethod]
    public void RuleHitCountersCountAllowedPackets()
    {
        using var policy = new PolicyUnderTest();
        policy.Objects.Apply(Model);
        for (var i = 0; i < 3; i++)
            policy.RunTc(Packet.Eth().IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 80).Build());
        for (var i = 0; i < 2; i++)
            policy.RunTc(Packet.Eth().IPv4("198.18.1.5", "198.18.3.9").Udp((ushort)(40000 + i), 53).Build());
        policy.RunTc(Packet.Eth().IPv4("198.18.1.5", "198.18.2.7").Tcp(40000, 81).Build()); // denied: no hit
        var hits = policy.Objects.ReadRuleHits();
        Assert.AreEqual(3ul, hits[RuleWeb80]);
        Assert.AreEqual(2ul, hits[RuleClientDbUdp]);
        Assert.AreEqual(0ul, hits[RuleWebDbAny]);
        Assert.AreEqual(5ul, policy.MovedOutcomes()[PolicyCounter.AllowedRule]);
    }

    [TestMethod]
    public void ApplyRejectsRuleIdZero()
    {
        using var policy = new PolicyUnderTest();
        Assert.ThrowsExactly<ArgumentException>(() => policy.Objects.Apply(new PolicyTables([], [Web], [new(Client, Web, 6, 80, 0)])));
    }

    private static uint ProxyTestRunsXdp(BpfProgram xdp, byte[] frame) => SfcProxy.Proxy.ProxyTestRuns.RunXdp(xdp, frame).Verdict;

    private static IdentityPrefix Prefix(string cidr, uint id) => new(IPNetwork.Parse(cidr), id);

    private static string Format(Dictionary<PolicyCounter, ulong> moved) =>
        moved.Count == 0 ? "(none)" : string.Join(", ", moved.Select(kv => $"{kv.Key}={kv.Value}"));
}

/// <summary>The policy objects loaded for one test under a pin directory of their own, removed on dispose.</summary>
internal sealed class PolicyUnderTest : IDisposable
{
    private readonly BpfPins _pins = new($"poltest-{Guid.NewGuid():N}"[..20]);

    public PolicyUnderTest(bool withXdp = false)
    {
        BpfEnvironmentCheck.Require();
        try
        {
            Objects = PolicyObjects.Load(_pins, withXdp);
        }
        catch
        {
            _pins.Remove();
            throw;
        }
    }

    public PolicyObjects Objects { get; }

    /// <summary>Runs policy_tc on a frame as real traffic (no probe mark); returns the tc verdict.</summary>
    public uint RunTc(byte[] frame) => SfcProxy.Proxy.ProxyTestRuns.RunTc(Objects.Tc, frame).Verdict;

    /// <summary>Outcome counters (not the detail ones) that moved since loading.</summary>
    public Dictionary<PolicyCounter, ulong> MovedOutcomes() =>
        Objects.ReadCounters().Where(kv => PolicyOutcomes.IsOutcome(kv.Key) && kv.Value != 0)
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    public void Dispose()
    {
        try
        {
            Objects.Dispose();
        }
        finally
        {
            _pins.Remove();
        }
    }
}
