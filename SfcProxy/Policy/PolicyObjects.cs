using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SfcProxy.Bpf;

namespace SfcProxy.Policy;

/// <summary>
/// The policy datapath: policy_tc (and policy_xdp) loaded side by side so that they share the maps
/// pinned under one instance directory, plus the table swap. The daemon, the CLI's check, the
/// benchmark and the tests all load the policy datapath through this one class.
/// </summary>
/// <remarks>
/// <para><b>Atomic Apply.</b> The identity trie and the rule hash are inner maps in two 2-slot
/// outer maps (pol_identities, pol_rules); pol_state.active names the live slot. A packet reads
/// pol_state once and takes both inner maps from that slot. <see cref="Apply"/>:</para>
/// <list type="number">
/// <item>waits an RCU grace period (in case an earlier process died between a flip and its wait);</item>
/// <item>builds a new trie and rule hash and fills them completely (no packet can see them yet);</item>
/// <item>puts them into the idle slot (no packet reads it: the last flip away from it was followed
///   by a grace period, and every program run lies inside one RCU read-side section);</item>
/// <item>flips pol_state.active to that slot (one aligned 4-byte word, only its low bit used);</item>
/// <item>waits a grace period: after that no packet still uses the old slot, which is emptied.</item>
/// </list>
/// <para>So every packet sees the old identities with the old rules, or the new identities with the
/// new rules, never a mix (a mix could allow wrongly when the model renumbers identities), and when
/// Apply returns no packet is judged by the old tables any more. Conntrack is kept across Apply; each
/// Apply's rule hash carries a new generation (<see cref="PolState.Applies"/> + 1, under the all-zero
/// key), so connections stamped by the old tables are judged again by the new ones. pol_state and
/// pol_conntrack are pinned side by side and go together, so a generation never repeats for one
/// conntrack table.
/// Applies are serialized inside this process; only one process (the daemon) may apply.</para>
/// </remarks>
public sealed class PolicyObjects : IPinnedObjects
{
    private readonly BpfObject _tc;
    private readonly BpfObject? _xdp;
    private readonly Lock _applyLock = new();
    private PolicyTables? _applied;

    private PolicyObjects(BpfObject tc, BpfObject? xdp, BpfPins pins)
    {
        (_tc, _xdp) = (tc, xdp);
        Pins = pins;
    }

    /// <summary>Where this instance's maps (and links) are pinned.</summary>
    public BpfPins Pins { get; }

    public BpfProgram Tc => _tc.Program(PolicyBpfNames.Tc.Program);
    /// <summary>The XDP variant; only when loaded with <c>withXdp</c>.</summary>
    public BpfProgram Xdp => (_xdp ?? throw new InvalidOperationException("policy_xdp was not loaded")).Program(PolicyBpfNames.Xdp.Program);

    public BpfMap State => _tc.Map(PolicyBpfNames.Maps.State);
    public BpfMap Identities => _tc.Map(PolicyBpfNames.Maps.Identities);
    public BpfMap Rules => _tc.Map(PolicyBpfNames.Maps.Rules);
    public BpfMap Conntrack => _tc.Map(PolicyBpfNames.Maps.Conntrack);
    public BpfMap Counters => _tc.Map(PolicyBpfNames.Maps.Counters);
    public BpfMap RuleHits => _tc.Map(PolicyBpfNames.Maps.RuleHits);

    /// <summary>The tables of the last <see cref="Apply"/> by this object, or null.</summary>
    public PolicyTables? Applied => _applied;

    /// <summary>Default place of the objects: bpf/ next to the host binary.</summary>
    public static string DefaultObjectDirectory => Path.Combine(AppContext.BaseDirectory, "bpf");

    /// <summary>
    /// Opens and loads policy.bpf.o (and policy_xdp.bpf.o). Maps already pinned in the instance
    /// directory are reused, so a restarted daemon keeps its tables, conntrack and counters.
    /// </summary>
    /// <param name="conntrackEntries">max_entries of the conntrack LRU.</param>
    public static PolicyObjects Load(BpfPins pins, bool withXdp = false, string? objectDirectory = null,
        uint conntrackEntries = PolicyLimits.ConntrackDefaultEntries)
    {
        var dir = objectDirectory ?? DefaultObjectDirectory;
        var opened = new List<BpfObject>();
        try
        {
            foreach (var name in withXdp ? new[] { PolicyBpfNames.Tc.Object, PolicyBpfNames.Xdp.Object } : [PolicyBpfNames.Tc.Object])
            {
                var obj = BpfObject.Open(Path.Combine(dir, name + ".bpf.o"), pins.Directory);
                opened.Add(obj);
                // Both objects declare it; both must agree for the pin to be reused.
                obj.SetMaxEntries(PolicyBpfNames.Maps.Conntrack, conntrackEntries);
                obj.Load();
            }
            return new PolicyObjects(opened[0], opened.Count > 1 ? opened[1] : null, pins);
        }
        catch
        {
            foreach (var o in opened)
                o.Dispose();
            throw;
        }
    }

    /// <summary>Attaches policy_tc to an interface's tc hook (ingress protects what lies behind it).</summary>
    public BpfLink Attach(string ifname, TcDirection direction = TcDirection.Ingress) =>
        Tc.AttachTc(SfcProxy.Net.NetDevice.IfIndex(ifname), direction);

    /// <summary>Attaches policy_xdp (loaded with <c>withXdp</c>) to an interface.</summary>
    public BpfLink AttachXdp(string ifname, XdpAttachMode mode) =>
        Xdp.AttachXdp(SfcProxy.Net.NetDevice.IfIndex(ifname), mode);

    /// <summary>
    /// Swaps in <paramref name="tables"/> whole (see the class remarks for why no packet sees a
    /// mix of old and new). Returns when no packet is judged by the old tables any more.
    /// </summary>
    /// <exception cref="ArgumentException">A rule or prefix the datapath cannot hold; nothing changed.</exception>
    public void Apply(PolicyTables tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        Validate(tables);
        lock (_applyLock)
        {
            RcuGracePeriod.Wait();
            State.TryLookup(0u, out PolState state);
            uint live = state.Active & 1, idle = live ^ 1;

            using (BpfMap trie = BuildIdentities(tables))
            using (BpfMap rules = BuildRules(tables, generation: state.Applies + 1))
            {
                Rules.SetInner(idle, rules);
                Identities.SetInner(idle, trie);
            }
            State.Update(0u, new PolState { Active = idle, Applies = state.Applies + 1 });
            RcuGracePeriod.Wait();
            // No packet uses the old slot any more: free its maps now rather than at the next Apply.
            Rules.ClearInner(live);
            Identities.ClearInner(live);
            _applied = tables;
        }
    }

    /// <summary>Per-CPU counters summed over the CPUs.</summary>
    public IReadOnlyDictionary<PolicyCounter, ulong> ReadCounters() => Counters.SumAll(PolicyCounter.Max);

    /// <summary>
    /// Packets allowed per rule id, summed over the CPUs. <paramref name="ruleIds"/> null: the rules
    /// of the last <see cref="Apply"/> by this object, or (none yet, e.g. after a restart) every
    /// slot, reporting the non-zero ones. Ids from <see cref="PolicyLimits.MaxRules"/> up are not
    /// counted by the datapath and report 0.
    /// </summary>
    public IReadOnlyDictionary<uint, ulong> ReadRuleHits(IEnumerable<uint>? ruleIds = null)
    {
        var result = new Dictionary<uint, ulong>();
        var ids = ruleIds ?? _applied?.Rules.Select(r => r.RuleId);
        if (ids is null)
        {
            for (uint id = 1; id < PolicyLimits.MaxRules; id++)
            {
                var n = RuleHits.Sum(id);
                if (n != 0)
                    result[id] = n;
            }
            return result;
        }
        foreach (var id in ids.Distinct())
            result[id] = id < PolicyLimits.MaxRules ? RuleHits.Sum(id) : 0;
        return result;
    }

    /// <summary>Judges one synthesized packet by the live tables (see <see cref="PolicyProbe"/>).</summary>
    public PolicyProbe Check(IPAddress source, IPAddress destination, byte protocol, ushort port) =>
        PolicyProbe.Check(this, source, destination, protocol, port);

    public void Dispose()
    {
        _xdp?.Dispose();
        _tc.Dispose();
    }


    private static void Validate(PolicyTables tables)
    {
        var errors = new List<string>();
        foreach (var r in tables.Rules)
        {
            if (r.RuleId == 0)
                errors.Add($"rule {r}: rule id 0 means \"no rule\"");
            if (r.SourceIdentity == ReservedIdentity.None || r.DestinationIdentity == ReservedIdentity.None)
                errors.Add($"rule {r}: identity 0 is not an identity (its all-zero key holds the tables' generation)");
            if (r.Protocol == 0 && r.Port != 0)
                errors.Add($"rule {r}: a port needs a protocol");
        }
        foreach (var p in tables.Prefixes)
            if (p.Identity == ReservedIdentity.None)
                errors.Add($"prefix {p.Cidr}: identity 0 is not an identity");
        if (errors.Count > 0)
            throw new ArgumentException("policy tables rejected by the datapath:\n" + string.Join("\n", errors), nameof(tables));
    }

    private static BpfMap BuildIdentities(PolicyTables tables)
    {
        var enforced = tables.EnforcedIdentities.ToHashSet();
        var entries = new Dictionary<PolLpmKey, PolIdentity>(new LpmKeyComparer());
        // ::/0 -> WORLD: an address no prefix covers is WORLD, enforced if a rule selects WORLD.
        entries[LpmKey(new IPNetwork(IPAddress.IPv6Any, 0))] = Identity(ReservedIdentity.World, enforced);
        foreach (var p in tables.Prefixes)
            entries[LpmKey(p.Cidr)] = Identity(p.Identity, enforced);

        var trie = BpfMap.Create(BpfMapType.LpmTrie, (uint)Marshal.SizeOf<PolLpmKey>(), (uint)Marshal.SizeOf<PolIdentity>(),
            (uint)entries.Count, BpfMapFlags.NoPrealloc, "pol_ids_inner");
        try
        {
            foreach (var (k, v) in entries)
                trie.Update(k, v);
            return trie;
        }
        catch
        {
            trie.Dispose();
            throw;
        }
    }

    /// <summary>The rule hash of one Apply, with its <paramref name="generation"/> under the all-zero key
    /// (POL_GENERATION_KEY): conntrack entries stamped with it were judged by exactly these tables.</summary>
    private static BpfMap BuildRules(PolicyTables tables, uint generation)
    {
        var rules = BpfMap.Create(BpfMapType.Hash, (uint)Marshal.SizeOf<PolRuleKey>(), (uint)Marshal.SizeOf<PolRule>(),
            (uint)tables.Rules.Count + 1, 0, "pol_rules_inner");
        try
        {
            rules.Update(new PolRuleKey(), new PolRule { RuleId = generation == 0 ? 1 : generation });
            foreach (var r in tables.Rules)
            {
                var key = new PolRuleKey
                {
                    SrcIdentity = r.SourceIdentity,
                    DstIdentity = r.DestinationIdentity,
                    Proto = r.Protocol,
                    Dport = (ushort)IPAddress.HostToNetworkOrder((short)r.Port),
                };
                // Two entries for one key (the model's duplicates): the first rule id wins.
                rules.Update(key, new PolRule { RuleId = r.RuleId }, MapUpdateFlags.Any);
            }
            return rules;
        }
        catch
        {
            rules.Dispose();
            throw;
        }
    }

    private static PolIdentity Identity(uint id, HashSet<uint> enforced) =>
        new() { Identity = id, Flags = enforced.Contains(id) ? (uint)PolicyIdentityFlag.Enforced : 0 };

    /// <summary>The trie key of a CIDR: IPv6 as is, IPv4 as ::ffff:a.b.c.d/(96 + length).</summary>
    internal static unsafe PolLpmKey LpmKey(IPNetwork cidr)
    {
        var key = new PolLpmKey();
        var bytes = new Span<byte>(key.Addr, 16);
        if (cidr.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            cidr.BaseAddress.MapToIPv6().TryWriteBytes(bytes, out _);
            key.Prefixlen = 96 + (uint)cidr.PrefixLength;
        }
        else
        {
            cidr.BaseAddress.TryWriteBytes(bytes, out _);
            key.Prefixlen = (uint)cidr.PrefixLength;
        }
        return key;
    }

    private sealed unsafe class LpmKeyComparer : IEqualityComparer<PolLpmKey>
    {
        public bool Equals(PolLpmKey a, PolLpmKey b) =>
            a.Prefixlen == b.Prefixlen && new ReadOnlySpan<byte>(a.Addr, 16).SequenceEqual(new ReadOnlySpan<byte>(b.Addr, 16));

        public int GetHashCode(PolLpmKey k)
        {
            var h = new HashCode();
            h.Add(k.Prefixlen);
            h.AddBytes(new ReadOnlySpan<byte>(k.Addr, 16));
            return h.ToHashCode();
        }
    }
}
