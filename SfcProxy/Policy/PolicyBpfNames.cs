namespace SfcProxy.Policy;

/// <summary>
/// The policy module's BPF objects, programs and maps by name, as bpf/policy declares them (the C
/// function and variable names libbpf looks up). A name that drifts from the C fails BpfNamesTests,
/// not a start. Objects are built into bpf/&lt;Object&gt;.bpf.o.
/// </summary>
internal static class PolicyBpfNames
{
    /// <summary>The tc (tcx ingress and egress) variant; its object is named "policy".</summary>
    public static class Tc
    {
        public const string Object = "policy", Program = "policy_tc";
    }

    /// <summary>The XDP variant (ingress only).</summary>
    public static class Xdp
    {
        public const string Object = "policy_xdp", Program = "policy_xdp";
    }

    /// <summary>The maps of policy_maps.h; both objects declare them and share them through the pin directory.</summary>
    public static class Maps
    {
        public const string State = "pol_state";
        public const string Identities = "pol_identities";
        public const string Rules = "pol_rules";
        public const string Conntrack = "pol_conntrack";
        public const string Counters = "pol_counters";
        public const string RuleHits = "pol_rule_hits";
    }
}
