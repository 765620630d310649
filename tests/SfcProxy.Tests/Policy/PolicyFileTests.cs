using System.Net;
using SfcProxy.Policy;

namespace SfcProxy.Tests.Policy;

[TestClass]
public sealed class PolicyFileTests
{
    [TestMethod]
    public void YamlAndJsonReadTheSame()
    {
        var yaml = PolicySet.Parse([("p.yaml", PolicyTexts.WebYaml)], out var yamlErrors)!;
        var json = PolicySet.Parse([("p.json", PolicyTexts.WebJson)], out var jsonErrors)!;

        Assert.IsEmpty(yamlErrors);
        Assert.IsEmpty(jsonErrors);
        Assert.HasCount(3, yaml.Endpoints);
        Assert.HasCount(2, yaml.Rules);
        for (int i = 0; i < 3; i++)
        {
            Assert.AreEqual(yaml.Endpoints[i].Name, json.Endpoints[i].Name);
            CollectionAssert.AreEqual(yaml.Endpoints[i].Cidrs.ToList(), json.Endpoints[i].Cidrs.ToList());
            Assert.AreEqual(yaml.Endpoints[i].Labels, json.Endpoints[i].Labels);
        }
        for (int i = 0; i < 2; i++)
        {
            Assert.AreEqual(yaml.Rules[i].Name, json.Rules[i].Name);
            Assert.AreEqual(yaml.Rules[i].From, json.Rules[i].From);
            Assert.AreEqual(yaml.Rules[i].To, json.Rules[i].To);
            CollectionAssert.AreEqual(yaml.Rules[i].Ports.ToList(), json.Rules[i].Ports.ToList());
        }
        Assert.AreEqual(IPNetwork.Parse("2001:2:10::/64"), yaml.Endpoints[0].Cidrs[1]);
        Assert.AreEqual("app=web,env=prod", yaml.Endpoints[0].Labels.ToString());
        Assert.IsTrue(yaml.Rules[1].From.IsWorld);
        CollectionAssert.AreEqual(new[] { new PolicyPort("tcp", 80), new PolicyPort("tcp", 443) }, yaml.Rules[0].Ports.ToList());
    }

    [TestMethod]
    public void FilesAreReadFromDiskByExtension()
    {
        using var files = new PolicyFiles();
        string yaml = files.Write("a.yml", PolicyTexts.WebYaml);
        string other = files.Write("b.json", """{ "rules": [ { "name": "all-to-db", "from": {}, "to": { "matchLabels": { "app": "db" } } } ] }""");

        var set = PolicySet.Load([yaml, other], out var errors);

        Assert.IsEmpty(errors, string.Join("\n", errors));
        Assert.HasCount(3, set!.Rules);
        Assert.AreEqual("all-to-db", set.Rules[2].Name);
        Assert.IsEmpty(set.Rules[2].Ports, "no ports: every protocol and port");
    }

    [TestMethod]
    public void EveryErrorIsNamedByFileItemAndField()
    {
        const string bad = """
            endpoints:
              - name: web
                cidrs: [198.18.10.5/24, not-an-ip, 10.0.0.0/33]
                labels: {app: web, "bad key!": x}
              - cidrs: [10.1.0.0/16]
            rules:
              - name: ok-rule
                from: {}
                to: {matchLabels: {app: web}}
              - name: bad-selectors
                from: {reserved: moon}
                to: {matchLabels: {app: web}, reserved: world}
              - name: typo
                form: {}
                to: {}
              - name: web-from-lb
                from: {matchLabels: {app: lb}}
                to: {matchLabels: {app: web}}
                ports: [{protocol: tcp, port: 80}, {protocol: tcp, port: 70000}, {protocol: sctp}, {protocol: tcp, port: 1000-2000}, {protocol: icmp, port: 8}]
            """;

        var errors = PolicyTexts.Errors(("policy.yaml", bad));

        string[] expected =
        [
            "policy.yaml: endpoints[0] 'web': cidrs[0]: '198.18.10.5/24' has host bits set (did you mean 198.18.10.0/24?)",
            "policy.yaml: endpoints[0] 'web': cidrs[1]: 'not-an-ip' is not an IPv4 or IPv6 CIDR",
            "policy.yaml: endpoints[0] 'web': cidrs[2]: '10.0.0.0/33': the prefix length must be 0..32",
            "policy.yaml: endpoints[0] 'web': labels.bad key!: 'bad key!' is not a label key",
            "policy.yaml: endpoints[1]: name: required",
            "policy.yaml: rules[1] 'bad-selectors': from.reserved: 'moon' is not a reserved identity (known: world)",
            "policy.yaml: rules[1] 'bad-selectors': to: give either matchLabels or reserved, not both",
            "policy.yaml: rules[2] 'typo': form: unknown field",
            "policy.yaml: rules[2] 'typo': from: required",
            "policy.yaml: rules[3] 'web-from-lb': ports[1].port: 70000 is out of range 1..65535",
            "policy.yaml: rules[3] 'web-from-lb': ports[2].protocol: 'sctp' is not one of tcp, udp, icmp, any",
            "policy.yaml: rules[3] 'web-from-lb': ports[3].port: '1000-2000': port ranges are not supported",
            "policy.yaml: rules[3] 'web-from-lb': ports[4].port: icmp has no ports",
        ];
        foreach (string message in expected)
            Assert.IsTrue(errors.Any(e => e.StartsWith(message, StringComparison.Ordinal)), $"missing: {message}\nall:\n{string.Join("\n", errors)}");
        Assert.HasCount(expected.Length, errors, string.Join("\n", errors));
    }

    [TestMethod]
    public void ErrorsOfSeveralFilesAreCollectedTogether()
    {
        var errors = PolicyTexts.Errors(
            ("a.json", """{ "rules": [ { "name": "r", "from": {}, "to": {}, "ports": [ { "protocol": "udp", "port": 0 } ] } ] }"""),
            ("b.yaml", "rules:\n  - name: r\n    from: {}\n    to: {}\n"),
            ("c.yaml", "rules: [unclosed"),
            ("d.toml", "x = 1"));

        Assert.Contains("a.json: rules[0] 'r': ports[0].port: 0 is out of range 1..65535", errors);
        Assert.IsTrue(errors.Any(e => e.StartsWith("c.yaml: not valid YAML (line ", StringComparison.Ordinal)), string.Join("\n", errors));
        Assert.Contains("d.toml: unknown file type '.toml' (use .json, .yaml or .yml)", errors);
        Assert.HasCount(3, errors, "rule 'r' of b.yaml is a duplicate only of a rule that had errors: " + string.Join("\n", errors));
    }

    [TestMethod]
    public void NamesMustBeUniqueAcrossFiles()
    {
        var errors = PolicyTexts.Errors(
            ("a.yaml", "endpoints: [{name: web, cidrs: [10.0.0.0/24], labels: {app: web}}]\nrules: [{name: r, from: {}, to: {}}]"),
            ("b.yaml", "endpoints: [{name: web, cidrs: [10.0.1.0/24], labels: {app: web}}]\nrules: [{name: r, from: {}, to: {}}]"));

        Assert.Contains("b.yaml: endpoints[0] 'web': name: another endpoint is already called 'web' (a.yaml: endpoints[0] 'web')", errors);
        Assert.Contains("b.yaml: rules[0] 'r': name: another rule is already called 'r' (a.yaml: rules[0] 'r')", errors);
    }

    [TestMethod]
    public void TheSameCidrWithOtherLabelsIsAnErrorButOverlapsAreFine()
    {
        const string text = """
            endpoints:
              - {name: net, cidrs: [10.0.0.0/16], labels: {zone: a}}
              - {name: host, cidrs: [10.0.0.7/32], labels: {app: db}}
              - {name: twin, cidrs: [10.0.0.7/32], labels: {app: db}}
              - {name: clash, cidrs: ["10.0.0.0/16"], labels: {zone: b}}
            """;

        var errors = PolicyTexts.Errors(("p.yaml", text));

        Assert.HasCount(1, errors, string.Join("\n", errors));
        StringAssert.StartsWith(errors[0], "p.yaml: endpoints[3] 'clash': cidrs[0]: 10.0.0.0/16 is also a CIDR of p.yaml: endpoints[0] 'net' with other labels");
    }

    [TestMethod]
    public void BadJsonSaysWhere()
    {
        var errors = PolicyTexts.Errors(("p.json", "{\n  \"rules\": [\n    { \"name\": }\n  ]\n}"));

        Assert.HasCount(1, errors);
        StringAssert.StartsWith(errors[0], "p.json: not valid JSON (line 3)");
    }

    [TestMethod]
    public void AnEmptyFileIsAnEmptyPolicy()
    {
        var set = PolicySet.Parse([("empty.yaml", "")], out var errors);

        Assert.IsEmpty(errors);
        Assert.IsEmpty(set!.Rules);
    }
}
