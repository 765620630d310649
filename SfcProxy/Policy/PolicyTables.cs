using System.Net;

namespace SfcProxy.Policy;

/// <summary>
/// A compiled policy: what the datapath needs, nothing more. The model (labels, selectors, rules
/// from policy files) compiles to this; the policy datapath writes it into its maps and swaps it in
/// whole, so packets see either the old tables or the new ones.
/// </summary>
/// <param name="Prefixes">CIDR -> identity (longest prefix wins). An address no prefix covers has
/// identity <see cref="ReservedIdentity.World"/>.</param>
/// <param name="EnforcedIdentities">Identities selected by at least one rule: their ingress is
/// default-deny. Every other destination allows all.</param>
/// <param name="Rules">Allow entries; the datapath looks up (src, dst, proto, port), then
/// (src, dst, proto, any port), then (src, dst, any proto, any port).</param>
public sealed record PolicyTables(
    IReadOnlyList<IdentityPrefix> Prefixes,
    IReadOnlyList<uint> EnforcedIdentities,
    IReadOnlyList<RuleEntry> Rules)
{
    public static readonly PolicyTables Empty = new([], [], []);
}

/// <summary>One CIDR of an endpoint and the numeric identity of the endpoint's label set.</summary>
public readonly record struct IdentityPrefix(IPNetwork Cidr, uint Identity);

/// <summary>
/// One allow entry. <paramref name="Protocol"/> 0 means any protocol (then <paramref name="Port"/>
/// must be 0); <paramref name="Port"/> 0 means any port of that protocol. <paramref name="RuleId"/>
/// indexes the per-rule hit counters (1-based; 0 is "no rule").
/// </summary>
public readonly record struct RuleEntry(uint SourceIdentity, uint DestinationIdentity, byte Protocol, ushort Port, uint RuleId);

/// <summary>Identities with a fixed meaning.</summary>
public static class ReservedIdentity
{
    /// <summary>No verdict / unused.</summary>
    public const uint None = 0;
    /// <summary>Any address no endpoint CIDR covers ("reserved:world" in selectors).</summary>
    public const uint World = 2;
    /// <summary>First identity handed to a label set.</summary>
    public const uint FirstAllocated = 256;
}
