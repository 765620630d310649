namespace SfcProxy.Policy;

/// <summary>
/// Compiles a <see cref="PolicySet"/> into <see cref="PolicyTables"/>.
/// <para>Identities: every distinct label set gets one, numbered from
/// <see cref="ReservedIdentity.FirstAllocated"/> in the ordinal order of the sets' canonical text
/// (<c>app=web,env=prod</c>, keys sorted), so the same files always give the same numbers, whatever
/// the order of endpoints in them. Adding a label set can renumber the sets after it; the datapath
/// swaps whole tables, so that is harmless.</para>
/// <para>Entries: for each rule (ids 1-based in file order), every source identity its <c>from</c>
/// selects x every destination identity its <c>to</c> selects x every protocol/port
/// (<c>icmp</c> = ICMP and ICMPv6; no ports = any protocol, any port). An entry another rule already
/// made is kept once, with the lower rule id. Every destination identity of a rule is enforced.</para>
/// <para>Cost: selectors are answered from an index of identities by label (and memoised), so
/// compilation is linear in rules plus the entries they produce.</para>
/// </summary>
public static class PolicyCompiler
{
    public static CompiledPolicy Compile(PolicySet policy)
    {
        var identities = AllocateIdentities(policy.Endpoints);
        var idOf = identities.ToDictionary(i => i.Labels, i => i.Id);

        var prefixes = new List<IdentityPrefix>();
        var seen = new HashSet<IdentityPrefix>();
        foreach (var endpoint in policy.Endpoints)
        {
            foreach (var cidr in endpoint.Cidrs)
            {
                var prefix = new IdentityPrefix(cidr, idOf[endpoint.Labels]);
                if (seen.Add(prefix))
                    prefixes.Add(prefix);
            }
        }

        var selectors = new SelectorIndex(identities);
        var entries = new List<RuleEntry>();
        var keys = new HashSet<(uint, uint, byte, ushort)>();
        var enforced = new SortedSet<uint>();
        var rules = new List<CompiledRule>(policy.Rules.Count);
        for (int i = 0; i < policy.Rules.Count; i++)
        {
            var rule = policy.Rules[i];
            uint ruleId = (uint)(i + 1);
            var sources = selectors.Select(rule.From);
            var destinations = selectors.Select(rule.To);
            var protoPorts = ProtocolPorts(rule.Ports);
            int owned = 0;
            foreach (uint dst in destinations)
            {
                enforced.Add(dst);
                foreach (uint src in sources)
                {
                    foreach (var (protocol, port) in protoPorts)
                    {
                        if (keys.Add((src, dst, protocol, port)))
                        {
                            entries.Add(new RuleEntry(src, dst, protocol, port, ruleId));
                            owned++;
                        }
                    }
                }
            }
            rules.Add(new CompiledRule(ruleId, rule.Name, rule.Origin, rule.From, rule.To, rule.Ports,
                sources.Count, destinations.Count, owned, sources.Count * destinations.Count * protoPorts.Count));
        }

        var tables = new PolicyTables(prefixes, enforced.ToList(), entries);
        return new CompiledPolicy(policy.Files, tables, identities, rules);
    }

    private static List<PolicyIdentity> AllocateIdentities(IReadOnlyList<PolicyEndpoint> endpoints)
    {
        var byLabels = new Dictionary<LabelSet, List<string>>();
        foreach (var endpoint in endpoints)
        {
            if (!byLabels.TryGetValue(endpoint.Labels, out var names))
                byLabels[endpoint.Labels] = names = [];
            names.Add(endpoint.Name);
        }
        return byLabels
            .OrderBy(pair => pair.Key.ToString(), StringComparer.Ordinal)
            .Select((pair, index) => new PolicyIdentity(ReservedIdentity.FirstAllocated + (uint)index, pair.Key, pair.Value))
            .ToList();
    }

    private static List<(byte Protocol, ushort Port)> ProtocolPorts(IReadOnlyList<PolicyPort> ports)
    {
        if (ports.Count == 0)
            return [(PolicyProtocol.Any, 0)];
        var result = new List<(byte, ushort)>();
        foreach (var port in ports)
        {
            foreach (byte protocol in PolicyProtocol.OfRuleName(port.Protocol)!)
            {
                if (!result.Contains((protocol, port.Port)))
                    result.Add((protocol, port.Port));
            }
        }
        return result;
    }

    /// <summary>Identities by label, so a selector costs the size of its smallest label's list, not the number of identities.</summary>
    private sealed class SelectorIndex
    {
        private readonly IReadOnlyList<PolicyIdentity> _all;
        private readonly Dictionary<(string, string), List<PolicyIdentity>> _byLabel = [];
        private readonly Dictionary<LabelSelector, IReadOnlyList<uint>> _memo = [];

        public SelectorIndex(IReadOnlyList<PolicyIdentity> identities)
        {
            _all = identities;
            foreach (var identity in identities)
            {
                foreach (var (key, value) in identity.Labels.Labels)
                {
                    if (!_byLabel.TryGetValue((key, value), out var list))
                        _byLabel[(key, value)] = list = [];
                    list.Add(identity);
                }
            }
        }

        public IReadOnlyList<uint> Select(LabelSelector selector)
        {
            if (_memo.TryGetValue(selector, out var cached))
                return cached;
            IReadOnlyList<uint> selected;
            if (selector.IsWorld)
            {
                selected = [ReservedIdentity.World];
            }
            else if (selector.MatchLabels.Count == 0)
            {
                selected = _all.Select(i => i.Id).ToList();
            }
            else
            {
                IReadOnlyList<PolicyIdentity> smallest = _all;
                foreach (var label in selector.MatchLabels)
                {
                    if (!_byLabel.TryGetValue((label.Key, label.Value), out var list))
                    {
                        smallest = [];
                        break;
                    }
                    if (list.Count < smallest.Count)
                        smallest = list;
                }
                selected = smallest.Where(i => i.Labels.Contains(selector.MatchLabels)).Select(i => i.Id).ToList();
            }
            _memo[selector] = selected;
            return selected;
        }
    }
}
