using System.Net;

namespace SfcProxy.Policy;

/// <summary>
/// The kernel side of the policy module, as the daemon sees it. The BPF implementation (tc ingress and egress
/// on <c>SfcProxy:Policy:Interfaces</c>) writes <see cref="PolicyTables"/> into its maps; tests use a
/// fake. Calls may come from several control sessions at once.
/// </summary>
public interface IPolicyDatapath
{
    /// <summary>Replaces the whole policy: packets see either the old tables or the new ones.</summary>
    void Apply(PolicyTables tables);

    /// <summary>
    /// The verdict the datapath would give a packet (src, dst, protocol, destination port; port 0 for
    /// protocols without ports), by the same lookups as for real packets.
    /// </summary>
    PolicyCheckResult Check(IPAddress source, IPAddress destination, byte protocol, ushort port);

    /// <summary>Packets allowed per rule id since the datapath started (ids of <see cref="RuleEntry.RuleId"/>).</summary>
    IReadOnlyDictionary<uint, ulong> RuleHits();

    /// <summary>The outcome and detail counters (pol_counters), summed over CPUs, since the datapath started.</summary>
    IReadOnlyDictionary<PolicyCounter, ulong> ReadCounters();
}

/// <summary>Why a packet is allowed or dropped.</summary>
public enum PolicyVerdict
{
    /// <summary>The destination identity is enforced and an entry of rule <see cref="PolicyCheckResult.RuleId"/> allows it.</summary>
    AllowedByRule,
    /// <summary>No rule selects the destination identity (<c>to</c>): everything is allowed to it.</summary>
    AllowedNotEnforced,
    /// <summary>The destination identity is enforced and no entry matches: default deny.</summary>
    DeniedByDefault,
}

/// <summary>
/// A verdict with the identities it was found for (<see cref="ReservedIdentity.World"/> when no
/// endpoint CIDR covers the address) and the allowing rule (<see cref="ReservedIdentity.None"/>, 0, if none).
/// </summary>
public readonly record struct PolicyCheckResult(PolicyVerdict Verdict, uint SourceIdentity, uint DestinationIdentity, uint RuleId)
{
    public bool Allowed => Verdict != PolicyVerdict.DeniedByDefault;
}
