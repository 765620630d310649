using System.Runtime.InteropServices;

namespace SfcProxy.Policy;

// Mirror of bpf/policy/policy_shared.h. Field order, sizes and enum values must match the C side;
// SharedLayoutTests compares them against the BTF of the compiled policy objects.

/// <summary>Limits and magic numbers shared with the policy datapath.</summary>
public static class PolicyLimits
{
    /// <summary>POL_MAX_RULES: slots of the per-rule hit counters; rule ids from here up allow but are not counted.</summary>
    public const uint MaxRules = 65536;
    /// <summary>POL_CT_DEFAULT_ENTRIES: conntrack size unless the host sets another before load.</summary>
    public const uint ConntrackDefaultEntries = 65536;
    /// <summary>POL_PROBE_MARK: skb->mark of a check probe.</summary>
    public const uint ProbeMark = 0x706f6c3f;
    /// <summary>POL_IDENTITY_WORLD.</summary>
    public const uint WorldIdentity = 2;
}

/// <summary>enum pol_counter: index into the per-CPU pol_counters map. The first six, <see cref="AllowedNd"/> and <see cref="AllowedRelated"/> are outcomes (one per packet).</summary>
public enum PolicyCounter : uint
{
    /// <summary>Enforced destination, a rule allows: pass.</summary>
    AllowedRule = 0,
    /// <summary>Destination identity not enforced: pass.</summary>
    AllowedNotEnforced,
    /// <summary>Reply of a tracked connection whose opening the policy still allows: pass.</summary>
    AllowedReply,
    /// <summary>Enforced destination, no rule allows: drop.</summary>
    DeniedDefault,
    /// <summary>Neither IPv4 nor IPv6: pass.</summary>
    NotIp,
    /// <summary>Truncated or invalid header: drop.</summary>
    Malformed,
    /// <summary>Detail: an opening packet created (or re-opened) a conntrack entry.</summary>
    CtCreated,
    /// <summary>Detail: a denied packet belonged to a tracked connection (its rule is gone).</summary>
    CtRevoked,
    /// <summary>Detail: no tables applied yet, treated as empty.</summary>
    NoTables,
    /// <summary>Outcome (appended): IPv6 neighbour/router discovery, exempt from policy: pass.</summary>
    AllowedNd,
    /// <summary>Outcome (appended): an ICMP error about a tracked connection the policy still allows: pass.</summary>
    AllowedRelated,
    Max,
}

/// <summary>enum pol_identity_flag: bits of <see cref="PolIdentity.Flags"/>.</summary>
[Flags]
public enum PolicyIdentityFlag : uint
{
    /// <summary>Selected by a rule: ingress is default-deny.</summary>
    Enforced = 1,
}

/// <summary>enum pol_probe_word: skb->cb[] words of a probe's answer.</summary>
public enum PolicyProbeWord : uint
{
    Outcome = 0,
    RuleId = 1,
    SrcIdentity = 2,
    DstIdentity = 3,
    Magic = 4,
}

/// <summary>struct pol_state: the live table slot.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PolState
{
    public uint Active;
    public uint Applies;
}

/// <summary>struct pol_lpm_key: an address as IPv6 (IPv4 as ::ffff:a.b.c.d) and its prefix length.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PolLpmKey
{
    public uint Prefixlen;
    /// <summary>Network byte order.</summary>
    public fixed byte Addr[16];
}

/// <summary>struct pol_identity.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PolIdentity
{
    public uint Identity;
    public uint Flags;
}

/// <summary>struct pol_rule_key. The all-zero key holds the tables' generation, not a rule.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PolRuleKey
{
    public uint SrcIdentity;
    public uint DstIdentity;
    public byte Proto;
    public byte Reserved;
    /// <summary>Network byte order.</summary>
    public ushort Dport;
}

/// <summary>struct pol_rule.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PolRule
{
    public uint RuleId;
}

/// <summary>struct pol_ct_key: a connection in canonical order (lower endpoint first); an ICMP
/// query with the requester first, identifier and code as ports, and the request's type.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PolCtKey
{
    public fixed byte AddrA[16];
    public fixed byte AddrB[16];
    public ushort PortA;
    public ushort PortB;
    public byte Proto;
    public byte Family;
    public byte IcmpQuery;
    public byte Reserved;
}

/// <summary>struct pol_ct_entry: who opened a connection, and the tables that last allowed its opening.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct PolCtEntry
{
    public uint RuleId;
    /// <summary>The rule hash's generation (its all-zero key) when the opening was last allowed; 0: never.</summary>
    public uint Generation;
    public byte Origin;
    /// <summary><see cref="PolicyCounter.AllowedRule"/> or <see cref="PolicyCounter.AllowedNotEnforced"/>.</summary>
    public byte OpenOutcome;
    public fixed byte Reserved[2];
}

/// <summary>Which <see cref="PolicyCounter"/>s are outcomes (every packet counts in exactly one), as pol_count() uses them.</summary>
public static class PolicyOutcomes
{
    public static bool IsOutcome(PolicyCounter c) =>
        c is <= PolicyCounter.Malformed or PolicyCounter.AllowedNd or PolicyCounter.AllowedRelated;
}
