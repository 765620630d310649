using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SfcProxy.Tests.Policy.Differential;

/// <summary>
/// A <see cref="RandomPolicy"/> compiled for nftables, written here from the policy's own meaning and
/// not from SfcProxy's compiler: every address belongs to the identity of the longest CIDR covering it
/// (an endpoint's label set; world when none covers it), a rule allows its <c>from</c> identities to
/// its <c>to</c> identities on its ports, and an identity some rule's <c>to</c> selects is default-deny.
/// <see cref="Ruleset"/> is the nftables text (conntrack first: <c>ct state established,related
/// accept</c>); <see cref="Accepts"/> is the same ruleset's stateless part evaluated in C#, which the
/// test uses only to explain a disagreement.
/// </summary>
internal sealed class NftPolicy
{
    private const string World = "world";

    /// <summary>Source of the judge's sentinel frame, which the first rule accepts.</summary>
    public static readonly IPAddress SentinelSource = IPAddress.Parse("198.19.254.254");

    private readonly Dictionary<string, List<(UInt128 Lo, UInt128 Hi)>>[] _intervals; // [0] IPv4, [1] IPv6: identity -> ranges
    private readonly List<(HashSet<string> From, HashSet<string> To, IReadOnlyList<PortSpec> Ports)> _rules = [];
    private readonly HashSet<string> _enforced = [];

    public NftPolicy(RandomPolicy policy)
    {
        _intervals = [Partition(policy, AddressFamily.InterNetwork), Partition(policy, AddressFamily.InterNetworkV6)];
        var labelSets = policy.Endpoints.Select(e => e.Labels).DistinctBy(Key).ToList();
        HashSet<string> Select(SelectorSpec s) =>
            s.World ? [World] : [.. labelSets.Where(s.Selects).Select(Key)];
        foreach (var r in policy.Rules)
        {
            var to = Select(r.To);
            _rules.Add((Select(r.From), to, r.Ports));
            _enforced.UnionWith(to);
        }
    }

    /// <summary>The nftables ruleset: table inet <paramref name="table"/>, conntrack zone <paramref name="zone"/>
    /// (a fresh zone per policy run keeps earlier runs' connections out).</summary>
    public string Ruleset(string table, int zone)
    {
        var sets = new StringBuilder();
        var rules = new StringBuilder();
        for (var f = 0; f < 2; f++)
        {
            var (ip, type) = f == 0 ? ("ip", "ipv4_addr") : ("ip6", "ipv6_addr");
            for (var i = 0; i < _rules.Count; i++)
            {
                var (from, to, ports) = _rules[i];
                var fromSet = Ranges(from, f);
                var toSet = Ranges(to, f);
                if (fromSet.Count == 0 || toSet.Count == 0)
                    continue;
                sets.Append(Set($"r{i}_from{f}", type, fromSet, f)).Append(Set($"r{i}_to{f}", type, toSet, f));
                foreach (var l4 in ports.Count == 0 ? [""] : ports.Select(L4))
                    rules.Append($"    {ip} saddr @r{i}_from{f} {ip} daddr @r{i}_to{f} {l4} accept\n");
            }
            var enforced = Ranges(_enforced, f);
            if (enforced.Count > 0)
            {
                sets.Append(Set($"enforced{f}", type, enforced, f));
                rules.Append($"    {ip} daddr @enforced{f} drop\n");
            }
        }
        return $$"""
            table inet {{table}}
            delete table inet {{table}}
            table inet {{table}} {
            {{sets}}  chain zoned {
                type filter hook prerouting priority raw; policy accept;
                ct zone set {{zone}}
              }
              chain forwarded {
                type filter hook forward priority filter; policy accept;
                ip saddr {{SentinelSource}} accept
                ct state established,related accept
                icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } accept
            {{rules}}  }
            }

            """;
    }

    /// <summary>Whether the ruleset's stateless part (everything after the conntrack line) accepts a packet:
    /// <paramref name="port"/> is the TCP/UDP destination port, <paramref name="icmpType"/> the ICMP type.</summary>
    public bool Accepts(IPAddress src, IPAddress dst, byte proto, ushort port, byte icmpType)
    {
        if (proto == 58 && icmpType is >= 133 and <= 137)
            return true;
        var s = IdentityOf(src);
        var d = IdentityOf(dst);
        foreach (var (from, to, ports) in _rules)
        {
            if (from.Contains(s) && to.Contains(d) && (ports.Count == 0 || ports.Any(p => Matches(p, proto, port))))
                return true;
        }
        return !_enforced.Contains(d);
    }

    /// <summary>The identity (label set text, or world) of an address.</summary>
    public string IdentityOf(IPAddress address)
    {
        var f = address.AddressFamily == AddressFamily.InterNetwork ? 0 : 1;
        var v = Number(address);
        foreach (var (id, ranges) in _intervals[f])
        {
            if (ranges.Any(r => r.Lo <= v && v <= r.Hi))
                return id;
        }
        return World;
    }

    private static bool Matches(PortSpec p, byte proto, ushort port) => p.Protocol switch
    {
        "tcp" => proto == 6 && (p.Port == 0 || p.Port == port),
        "udp" => proto == 17 && (p.Port == 0 || p.Port == port),
        "icmp" => proto is 1 or 58,
        _ => true,
    };

    private static string L4(PortSpec p) => p.Protocol switch
    {
        "tcp" or "udp" => p.Port == 0 ? $"meta l4proto {p.Protocol}" : $"{p.Protocol} dport {p.Port}",
        "icmp" => "meta l4proto { icmp, ipv6-icmp }",
        _ => "",
    };

    private List<(UInt128 Lo, UInt128 Hi)> Ranges(HashSet<string> identities, int f) =>
        Merge(identities.SelectMany(id => _intervals[f].GetValueOrDefault(id) ?? []));

    private static string Set(string name, string type, List<(UInt128 Lo, UInt128 Hi)> ranges, int f) =>
        $"  set {name} {{ type {type}; flags interval; elements = {{ " +
        string.Join(", ", ranges.Select(r => r.Lo == r.Hi ? Text(r.Lo, f) : $"{Text(r.Lo, f)}-{Text(r.Hi, f)}")) + " } }\n";

    private static string Key(IReadOnlyDictionary<string, string> labels) =>
        string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    /// <summary>The address space of one family cut into ranges, each with the identity of the longest CIDR covering it.</summary>
    private static Dictionary<string, List<(UInt128 Lo, UInt128 Hi)>> Partition(RandomPolicy policy, AddressFamily family)
    {
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var max = bits == 32 ? (UInt128)uint.MaxValue : UInt128.MaxValue;
        var cidrs = policy.Endpoints
            .SelectMany(e => e.Cidrs.Where(c => c.BaseAddress.AddressFamily == family).Select(c => (Cidr: c, Id: Key(e.Labels))))
            .Select(c => (Lo: Number(c.Cidr.BaseAddress), Hi: Number(c.Cidr.BaseAddress) | (c.Cidr.PrefixLength == bits ? 0 : (max >> c.Cidr.PrefixLength)), c.Cidr.PrefixLength, c.Id))
            .ToList();
        var bounds = new SortedSet<UInt128> { 0 };
        foreach (var c in cidrs)
        {
            bounds.Add(c.Lo);
            if (c.Hi != max)
                bounds.Add(c.Hi + 1);
        }
        var list = bounds.ToList();
        var result = new Dictionary<string, List<(UInt128, UInt128)>>();
        for (var i = 0; i < list.Count; i++)
        {
            var lo = list[i];
            var hi = i + 1 < list.Count ? list[i + 1] - 1 : max;
            var owner = cidrs.Where(c => c.Lo <= lo && hi <= c.Hi).OrderByDescending(c => c.PrefixLength).Select(c => c.Id).FirstOrDefault() ?? World;
            if (!result.TryGetValue(owner, out var ranges))
                result[owner] = ranges = [];
            ranges.Add((lo, hi));
        }
        return result.ToDictionary(kv => kv.Key, kv => Merge(kv.Value));
    }

    private static List<(UInt128 Lo, UInt128 Hi)> Merge(IEnumerable<(UInt128 Lo, UInt128 Hi)> ranges)
    {
        var merged = new List<(UInt128 Lo, UInt128 Hi)>();
        foreach (var r in ranges.OrderBy(r => r.Lo))
        {
            if (merged.Count > 0 && merged[^1].Hi != UInt128.MaxValue && merged[^1].Hi + 1 >= r.Lo)
                merged[^1] = (merged[^1].Lo, UInt128.Max(merged[^1].Hi, r.Hi));
            else
                merged.Add(r);
        }
        return merged;
    }

    private static UInt128 Number(IPAddress a)
    {
        UInt128 v = 0;
        foreach (var b in a.GetAddressBytes())
            v = (v << 8) | b;
        return v;
    }

    private static string Text(UInt128 v, int f)
    {
        var bytes = new byte[f == 0 ? 4 : 16];
        for (var i = bytes.Length - 1; i >= 0; i--, v >>= 8)
            bytes[i] = (byte)(v & 0xFF);
        return new IPAddress(bytes).ToString();
    }
}
