using System.Net;
using System.Text.Json.Nodes;

namespace SfcProxy.Tests.Policy.Differential;

/// <summary>An endpoint of a generated policy: its CIDRs, its labels and a few host addresses inside it
/// (outside the CIDRs nested in it, so a host has the endpoint's identity).</summary>
internal sealed record PolicyEndpointSpec(string Name, IReadOnlyList<IPNetwork> Cidrs, IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<IPAddress> Hosts);

/// <summary><c>reserved: world</c>, or <c>matchLabels</c> (empty: every endpoint).</summary>
internal sealed record SelectorSpec(bool World, IReadOnlyDictionary<string, string> MatchLabels)
{
    public static readonly SelectorSpec WorldSelector = new(true, new Dictionary<string, string>());

    /// <summary>Whether the selector picks an endpoint with these labels (world is picked by <see cref="World"/> only).</summary>
    public bool Selects(IReadOnlyDictionary<string, string> labels) =>
        !World && MatchLabels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value);

    public JsonObject ToJson() => World
        ? new JsonObject { ["reserved"] = "world" }
        : new JsonObject { ["matchLabels"] = new JsonObject(MatchLabels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))) };

    public override string ToString() => World ? "world" : "{" + string.Join(',', MatchLabels.Select(l => $"{l.Key}={l.Value}")) + "}";
}

/// <summary>One entry of a rule's ports: tcp|udp|icmp|any and a port (0: every port).</summary>
internal sealed record PortSpec(string Protocol, ushort Port)
{
    public override string ToString() => Port == 0 ? Protocol : $"{Protocol}/{Port}";
}

internal sealed record RuleSpec(string Name, SelectorSpec From, SelectorSpec To, IReadOnlyList<PortSpec> Ports)
{
    public override string ToString() => $"{Name}: {From} -> {To} [{string.Join(' ', Ports)}]";
}

/// <summary>
/// A random identity policy for the differential test: 2-5 endpoints in 198.18.0.0/16 and 2001:2:0::/52
/// (/24 and /64, some with a /28 or /124 of other labels nested inside), labels app=a..d and env=x|y, and
/// 1-4 rules between label selectors or world with a few protocols and ports. The same record becomes
/// an SfcProxy policy file (<see cref="ToJson"/>) and an nftables ruleset (<see cref="NftPolicy"/>).
/// World hosts live in 198.19.0.0/17 and 2001:2:0:f000::/56, which no endpoint covers.
/// </summary>
internal sealed record RandomPolicy(IReadOnlyList<PolicyEndpointSpec> Endpoints, IReadOnlyList<RuleSpec> Rules)
{
    public static readonly ushort[] Ports = [53, 80, 443, 5000];
    private static readonly string[] Apps = ["a", "b", "c", "d"];
    private static readonly string[] Envs = ["x", "y"];

    public static RandomPolicy Generate(Random rng)
    {
        var endpoints = new List<PolicyEndpointSpec>();
        var nestedBlocks = new HashSet<int>();
        var count = rng.Next(2, 6);
        for (var k = 0; k < count; k++)
        {
            var labels = new Dictionary<string, string> { ["app"] = Apps[rng.Next(Apps.Length)] };
            if (rng.Next(2) == 0)
                labels["env"] = Envs[rng.Next(Envs.Length)];
            var nestedIn = k > 0 && rng.Next(4) == 0 ? rng.Next(k) : -1;
            if (nestedIn >= 0 && !nestedBlocks.Add(nestedIn))
                nestedIn = -1; // one nested CIDR per block: the same CIDR with other labels is an error
            var cidrs = new List<IPNetwork>();
            var hosts = new List<IPAddress>();
            var block = nestedIn >= 0 ? nestedIn : k;
            var family = nestedIn >= 0 ? 3 : rng.Next(5) switch { 0 => 1, 1 => 2, _ => 3 }; // 1 v4, 2 v6, 3 both
            if ((family & 1) != 0)
            {
                cidrs.Add(IPNetwork.Parse(nestedIn >= 0 ? $"198.18.{block * 8 + 1}.16/28" : $"198.18.{block * 8 + 1}.0/24"));
                hosts.Add(IPAddress.Parse(nestedIn >= 0 ? $"198.18.{block * 8 + 1}.20" : $"198.18.{block * 8 + 1}.5"));
            }
            if ((family & 2) != 0)
            {
                cidrs.Add(IPNetwork.Parse(nestedIn >= 0 ? $"2001:2:0:{block + 1:x}::10/124" : $"2001:2:0:{block + 1:x}::/64"));
                hosts.Add(IPAddress.Parse(nestedIn >= 0 ? $"2001:2:0:{block + 1:x}::14" : $"2001:2:0:{block + 1:x}::5"));
            }
            endpoints.Add(new PolicyEndpointSpec($"e{k}", cidrs, labels, hosts));
        }
        var rules = new List<RuleSpec>();
        var ruleCount = rng.Next(1, 5);
        for (var i = 0; i < ruleCount; i++)
            rules.Add(RandomRule(rng, endpoints, $"r{i}"));
        return new RandomPolicy(endpoints, rules);
    }

    /// <summary>A rule whose selectors mostly pick labels some endpoint has.</summary>
    public static RuleSpec RandomRule(Random rng, IReadOnlyList<PolicyEndpointSpec> endpoints, string name)
    {
        SelectorSpec Pick(bool allowWorld)
        {
            var r = rng.Next(10);
            if (allowWorld && r == 0)
                return SelectorSpec.WorldSelector;
            if (r == 1)
                return new SelectorSpec(false, new Dictionary<string, string>()); // every endpoint
            var e = endpoints[rng.Next(endpoints.Count)];
            var keys = e.Labels.Keys.Where(_ => rng.Next(3) != 0).ToList();
            if (keys.Count == 0)
                keys = [e.Labels.Keys.First()];
            return new SelectorSpec(false, keys.ToDictionary(k => k, k => e.Labels[k]));
        }
        var ports = new List<PortSpec>();
        var n = rng.Next(5) == 0 ? 0 : rng.Next(1, 3);
        for (var i = 0; i < n; i++)
        {
            var p = rng.Next(10) switch
            {
                < 4 => new PortSpec("tcp", Ports[rng.Next(Ports.Length)]),
                < 6 => new PortSpec("udp", Ports[rng.Next(Ports.Length)]),
                6 => new PortSpec(rng.Next(2) == 0 ? "tcp" : "udp", 0),
                < 9 => new PortSpec("icmp", 0),
                _ => new PortSpec("any", 0),
            };
            if (!ports.Contains(p))
                ports.Add(p);
        }
        return new RuleSpec(name, Pick(allowWorld: true), Pick(allowWorld: rng.Next(4) == 0), ports);
    }

    /// <summary>World hosts (no endpoint covers them) and a router per family, the sender of ICMP errors.</summary>
    public static readonly IPAddress[] WorldHosts =
        [IPAddress.Parse("198.19.1.9"), IPAddress.Parse("198.19.2.9"), IPAddress.Parse("2001:2:0:f001::9"), IPAddress.Parse("2001:2:0:f002::9")];

    public static readonly IPAddress Router4 = IPAddress.Parse("198.19.100.1"), Router6 = IPAddress.Parse("2001:2:0:f100::1");

    public IEnumerable<IPAddress> AllHosts => Endpoints.SelectMany(e => e.Hosts).Concat(WorldHosts);

    /// <summary>The policy as an SfcProxy policy file (JSON).</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["endpoints"] = new JsonArray([.. Endpoints.Select(e => (JsonNode)new JsonObject
            {
                ["name"] = e.Name,
                ["cidrs"] = new JsonArray([.. e.Cidrs.Select(c => (JsonNode)JsonValue.Create(c.ToString())!)]),
                ["labels"] = new JsonObject(e.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            })]),
            ["rules"] = new JsonArray([.. Rules.Select(r => (JsonNode)new JsonObject
            {
                ["name"] = r.Name,
                ["from"] = r.From.ToJson(),
                ["to"] = r.To.ToJson(),
                ["ports"] = new JsonArray([.. r.Ports.Select(p => (JsonNode)(p.Port == 0
                    ? new JsonObject { ["protocol"] = p.Protocol }
                    : new JsonObject { ["protocol"] = p.Protocol, ["port"] = p.Port }))]),
            })]),
        };
        return root.ToJsonString();
    }

    public override string ToString() =>
        string.Join("; ", Endpoints.Select(e => $"{e.Name} [{string.Join(' ', e.Cidrs)}] {{{string.Join(',', e.Labels.Select(l => $"{l.Key}={l.Value}"))}}}")) +
        " | " + string.Join("; ", Rules);
}
