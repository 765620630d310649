using System.Diagnostics;
using System.Net;
using System.Text;
using SfcProxy.Policy;

namespace SfcProxy.Tests.Policy;

[TestClass]
public sealed class PolicyCompilerTests
{
    private const uint Db = 256, Lb = 257, Web = 258; // "app=db,env=prod" < "app=lb" < "app=web,env=prod"
    private const uint World = ReservedIdentity.World;

    [TestMethod]
    public void IdentitiesAreNumberedFromTheSortedLabelSets()
    {
        var policy = PolicyTexts.Compile(("p.yaml", PolicyTexts.WebYaml));

        CollectionAssert.AreEqual(
            new[] { (Db, "app=db,env=prod"), (Lb, "app=lb"), (Web, "app=web,env=prod") },
            policy.Identities.Select(i => (i.Id, i.Labels.ToString())).ToArray());
        CollectionAssert.AreEquivalent(
            new[]
            {
                new IdentityPrefix(IPNetwork.Parse("198.18.10.0/24"), Web),
                new IdentityPrefix(IPNetwork.Parse("2001:2:10::/64"), Web),
                new IdentityPrefix(IPNetwork.Parse("198.18.1.0/24"), Lb),
                new IdentityPrefix(IPNetwork.Parse("198.18.20.0/24"), Db),
            },
            policy.Tables.Prefixes.ToList());
    }

    [TestMethod]
    public void TheSameFilesGiveTheSameIdentitiesWhateverTheOrderOfEndpointsAndLabels()
    {
        const string forward = "endpoints: [{name: a, cidrs: [10.0.0.1/32], labels: {x: '1', y: '2'}}, {name: b, cidrs: [10.0.0.2/32], labels: {x: '0'}}, {name: c, cidrs: [10.0.0.3/32], labels: {y: '2', x: '1'}}]";
        const string backward = "endpoints: [{name: c, cidrs: [10.0.0.3/32], labels: {x: '1', y: '2'}}, {name: b, cidrs: [10.0.0.2/32], labels: {x: '0'}}, {name: a, cidrs: [10.0.0.1/32], labels: {y: '2', x: '1'}}]";

        var one = PolicyTexts.Compile(("p.yaml", forward));
        var two = PolicyTexts.Compile(("p.yaml", backward));
        var again = PolicyTexts.Compile(("p.yaml", forward));

        Assert.HasCount(2, one.Identities, "a and c carry the same label set");
        foreach (var policy in new[] { one, two, again })
        {
            Assert.AreEqual(256u, policy.IdentityOf(IPAddress.Parse("10.0.0.2")), "x=0 sorts first");
            Assert.AreEqual(257u, policy.IdentityOf(IPAddress.Parse("10.0.0.1")));
            Assert.AreEqual(257u, policy.IdentityOf(IPAddress.Parse("10.0.0.3")));
        }
        CollectionAssert.AreEqual(one.Tables.Prefixes.ToList(), again.Tables.Prefixes.ToList());
    }

    [TestMethod]
    public void CompilesTheExampleToTheExpectedEntries()
    {
        var policy = PolicyTexts.Compile(("p.yaml", PolicyTexts.WebYaml));

        CollectionAssert.AreEquivalent(
            new[]
            {
                new RuleEntry(Lb, Web, PolicyProtocol.Tcp, 80, 1),
                new RuleEntry(Lb, Web, PolicyProtocol.Tcp, 443, 1),
                new RuleEntry(World, Web, PolicyProtocol.Icmp, 0, 2),
                new RuleEntry(World, Web, PolicyProtocol.IcmpV6, 0, 2),
            },
            policy.Tables.Rules.ToList());
        CollectionAssert.AreEqual(new[] { Web }, policy.Tables.EnforcedIdentities.ToList());
        Assert.AreEqual(2, policy.Rules[0].Entries);
        Assert.AreEqual("world-ping", policy.Rule(2)!.Name);
    }

    [TestMethod]
    public void SelectorsMatchEveryListedLabelAndEmptyMeansEveryEndpointButNotWorld()
    {
        const string text = """
            endpoints:
              - {name: web-prod, cidrs: [10.0.1.0/24], labels: {app: web, env: prod}}
              - {name: web-dev, cidrs: [10.0.2.0/24], labels: {app: web, env: dev}}
              - {name: db-prod, cidrs: [10.0.3.0/24], labels: {app: db, env: prod}}
            rules:
              - {name: prod-web, from: {matchLabels: {env: prod, app: web}}, to: {matchLabels: {app: db}}, ports: [{protocol: tcp, port: 5432}]}
              - {name: anyone, from: {}, to: {matchLabels: {env: dev}}}
              - {name: nobody, from: {matchLabels: {app: cache}}, to: {matchLabels: {app: db}}}
              - {name: to-world, from: {matchLabels: {app: db}}, to: {reserved: world}, ports: [{protocol: udp, port: 53}]}
            """;

        var policy = PolicyTexts.Compile(("p.yaml", text));
        uint dbProd = 256, webDev = 257, webProd = 258; // app=db,env=prod < app=web,env=dev < app=web,env=prod

        CollectionAssert.AreEquivalent(
            new[]
            {
                new RuleEntry(webProd, dbProd, PolicyProtocol.Tcp, 5432, 1),
                new RuleEntry(dbProd, webDev, PolicyProtocol.Any, 0, 2),
                new RuleEntry(webDev, webDev, PolicyProtocol.Any, 0, 2),
                new RuleEntry(webProd, webDev, PolicyProtocol.Any, 0, 2),
                new RuleEntry(dbProd, World, PolicyProtocol.Udp, 53, 4),
            },
            policy.Tables.Rules.ToList());
        CollectionAssert.AreEqual(new[] { World, dbProd, webDev }, policy.Tables.EnforcedIdentities.ToList(),
            "db is enforced although 'nobody' selects no source; world is enforced as a destination");
        Assert.AreEqual(0, policy.Rule(3)!.Entries);
    }

    [TestMethod]
    public void DuplicateEntriesAreKeptOnceWithTheFirstRule()
    {
        const string text = """
            endpoints: [{name: a, cidrs: [10.0.0.0/24], labels: {app: a}}, {name: b, cidrs: [10.0.1.0/24], labels: {app: b}}]
            rules:
              - {name: first, from: {matchLabels: {app: a}}, to: {matchLabels: {app: b}}, ports: [{protocol: tcp, port: 22}]}
              - {name: second, from: {}, to: {matchLabels: {app: b}}, ports: [{protocol: tcp, port: 22}, {protocol: tcp, port: 22}]}
            """;

        var policy = PolicyTexts.Compile(("p.yaml", text));

        CollectionAssert.AreEquivalent(
            new[] { new RuleEntry(256, 257, PolicyProtocol.Tcp, 22, 1), new RuleEntry(257, 257, PolicyProtocol.Tcp, 22, 2) },
            policy.Tables.Rules.ToList());
        Assert.AreEqual(1, policy.Rule(2)!.Entries);
        Assert.AreEqual(2, policy.Rule(2)!.Generated);
    }

    [TestMethod]
    public void TheModelAnswersWithTheDatapathsLookupOrder()
    {
        const string extra = """
            endpoints: [{name: host, cidrs: [198.18.10.7/32], labels: {app: admin}}]
            rules:
              - {name: lb-any-udp, from: {matchLabels: {app: lb}}, to: {matchLabels: {app: db}}, ports: [{protocol: udp}]}
            """;
        var policy = PolicyTexts.Compile(("p.yaml", PolicyTexts.WebYaml), ("q.yaml", extra));
        var lb = IPAddress.Parse("198.18.1.9");
        var web = IPAddress.Parse("198.18.10.1");

        var allowed = policy.Check(lb, web, PolicyProtocol.Tcp, 443);
        Assert.AreEqual(PolicyVerdict.AllowedByRule, allowed.Verdict);
        Assert.AreEqual("web-from-lb", policy.Rule(allowed.RuleId)!.Name);

        Assert.AreEqual(PolicyVerdict.DeniedByDefault, policy.Check(lb, web, PolicyProtocol.Tcp, 22).Verdict);
        var ping = policy.Check(IPAddress.Parse("8.8.8.8"), IPAddress.Parse("2001:2:10::5"), PolicyProtocol.IcmpV6, 0);
        Assert.AreEqual((PolicyVerdict.AllowedByRule, World, 2u), (ping.Verdict, ping.SourceIdentity, ping.RuleId));
        // The /32 is a longer prefix than web's /24: its own identity, which no rule selects.
        var host = policy.Check(lb, IPAddress.Parse("198.18.10.7"), PolicyProtocol.Tcp, 22);
        Assert.AreEqual(PolicyVerdict.AllowedNotEnforced, host.Verdict);
        Assert.AreEqual("{app=admin}", policy.Describe(host.DestinationIdentity));
        Assert.AreEqual(PolicyVerdict.AllowedNotEnforced, policy.Check(web, lb, PolicyProtocol.Tcp, 80).Verdict, "lb is not enforced");
        var anyUdpPort = policy.Check(lb, IPAddress.Parse("198.18.20.1"), PolicyProtocol.Udp, 5353);
        Assert.AreEqual(PolicyVerdict.AllowedByRule, anyUdpPort.Verdict, "port 0 entry covers every port");
        Assert.AreEqual(PolicyVerdict.DeniedByDefault, policy.Check(lb, IPAddress.Parse("198.18.20.1"), PolicyProtocol.Tcp, 5353).Verdict);
    }

    [TestMethod]
    public void TenThousandRulesCompileInUnderASecond()
    {
        // 2,000 services, 10,000 rules between them (2 ports each), plus a few broad ones.
        var text = new StringBuilder("endpoints:\n");
        for (int i = 0; i < 2000; i++)
            text.Append($"  - {{name: svc{i}, cidrs: [10.{i / 250}.{i % 250}.0/24, 'fd00:{i:x}::/64'], labels: {{app: svc{i}, tier: t{i % 10}}}}}\n");
        text.Append("rules:\n");
        for (int r = 0; r < 10_000; r++)
        {
            int from = r % 2000, to = (r * 7 + 1) % 2000;
            text.Append($"  - {{name: r{r}, from: {{matchLabels: {{app: svc{from}}}}}, to: {{matchLabels: {{app: svc{to}, tier: t{to % 10}}}}}, " +
                        $"ports: [{{protocol: tcp, port: {1 + r % 60000}}}, {{protocol: udp, port: 53}}]}}\n");
        }
        var set = PolicySet.Parse([("big.yaml", text.ToString())], out var errors);
        Assert.IsEmpty(errors, string.Join("\n", errors.Take(5)));

        PolicyCompiler.Compile(set!); // warm-up (JIT)
        var clock = Stopwatch.StartNew();
        var policy = PolicyCompiler.Compile(set!);
        clock.Stop();

        Assert.HasCount(10_000, policy.Rules);
        Assert.AreEqual(2000, policy.Identities.Count);
        Assert.IsGreaterThanOrEqualTo(10_000, policy.Tables.Rules.Count);
        Assert.IsLessThan(TimeSpan.FromSeconds(1), clock.Elapsed, $"compile took {clock.Elapsed.TotalMilliseconds:0} ms");
        Console.WriteLine($"10,000 rules -> {policy.Tables.Rules.Count:N0} entries in {clock.Elapsed.TotalMilliseconds:0.0} ms");
    }
}
