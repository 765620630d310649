using System.Net;

namespace SfcProxy.Policy;

/// <summary>An identity: a label set and the endpoints that carry exactly it.</summary>
public sealed record PolicyIdentity(uint Id, LabelSet Labels, IReadOnlyList<string> Endpoints);

/// <summary>A rule after compilation.</summary>
/// <param name="Id">1-based, in file order: the <see cref="RuleEntry.RuleId"/> of its entries.</param>
/// <param name="Entries">Entries in the tables that belong to this rule.</param>
/// <param name="Generated">Entries the rule produced (sources x destinations x protocol/ports);
/// more than <paramref name="Entries"/> when an earlier rule already allows some of them.</param>
public sealed record CompiledRule(
    uint Id, string Name, string Origin, LabelSelector From, LabelSelector To, IReadOnlyList<PolicyPort> Ports,
    int SourceIdentities, int DestinationIdentities, int Entries, int Generated);

/// <summary>
/// A policy set compiled to <see cref="PolicyTables"/>, with what it takes to explain it (identity
/// labels, rule names). <see cref="Check"/> is the model's answer, computed from the tables in user
/// space with the datapath's lookup order; it is not the datapath's.
/// </summary>
public sealed class CompiledPolicy
{
    private readonly Dictionary<uint, PolicyIdentity> _identities;
    private readonly Dictionary<uint, CompiledRule> _rules;
    private readonly HashSet<uint> _enforced;
    private readonly Dictionary<(uint, uint, byte, ushort), uint> _entries;

    internal CompiledPolicy(IReadOnlyList<string> files, PolicyTables tables, IReadOnlyList<PolicyIdentity> identities, IReadOnlyList<CompiledRule> rules)
    {
        Files = files;
        Tables = tables;
        Identities = identities;
        Rules = rules;
        _identities = identities.ToDictionary(i => i.Id);
        _rules = rules.ToDictionary(r => r.Id);
        _enforced = tables.EnforcedIdentities.ToHashSet();
        _entries = new Dictionary<(uint, uint, byte, ushort), uint>(tables.Rules.Count);
        foreach (var entry in tables.Rules)
            _entries.TryAdd((entry.SourceIdentity, entry.DestinationIdentity, entry.Protocol, entry.Port), entry.RuleId);
    }

    public static readonly CompiledPolicy Empty = new([], PolicyTables.Empty, [], []);

    public IReadOnlyList<string> Files { get; }
    public PolicyTables Tables { get; }
    public IReadOnlyList<PolicyIdentity> Identities { get; }
    public IReadOnlyList<CompiledRule> Rules { get; }

    public CompiledRule? Rule(uint id) => _rules.GetValueOrDefault(id);

    public PolicyIdentity? Identity(uint id) => _identities.GetValueOrDefault(id);

    /// <summary>"world", the identity's labels, or "unknown" for an id this policy did not allocate.</summary>
    public string Describe(uint identity) => identity switch
    {
        ReservedIdentity.World => "reserved:world",
        _ when _identities.TryGetValue(identity, out var found) => "{" + found.Labels + "}",
        _ => "unknown",
    };

    public bool IsEnforced(uint identity) => _enforced.Contains(identity);

    /// <summary>The identity of <paramref name="address"/>: the longest prefix covering it, else world.</summary>
    public uint IdentityOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        uint identity = ReservedIdentity.World;
        int longest = -1;
        foreach (var prefix in Tables.Prefixes)
        {
            if (prefix.Cidr.PrefixLength > longest && prefix.Cidr.Contains(address))
            {
                longest = prefix.Cidr.PrefixLength;
                identity = prefix.Identity;
            }
        }
        return identity;
    }

    /// <summary>The model's verdict: identities by longest prefix, then the lookups the datapath does.</summary>
    public PolicyCheckResult Check(IPAddress source, IPAddress destination, byte protocol, ushort port)
    {
        uint src = IdentityOf(source);
        uint dst = IdentityOf(destination);
        if (!_enforced.Contains(dst))
            return new PolicyCheckResult(PolicyVerdict.AllowedNotEnforced, src, dst, ReservedIdentity.None);
        if ((port != 0 && _entries.TryGetValue((src, dst, protocol, port), out uint rule))
            || _entries.TryGetValue((src, dst, protocol, 0), out rule)
            || _entries.TryGetValue((src, dst, PolicyProtocol.Any, 0), out rule))
        {
            return new PolicyCheckResult(PolicyVerdict.AllowedByRule, src, dst, rule);
        }
        return new PolicyCheckResult(PolicyVerdict.DeniedByDefault, src, dst, ReservedIdentity.None);
    }
}
