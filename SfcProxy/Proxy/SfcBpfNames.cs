namespace SfcProxy.Proxy;

/// <summary>
/// The SFC module's BPF objects, programs and maps by name, as bpf/xdp_rx, bpf/tc_tx, bpf/meta_mark and
/// bpf/hash_age declare them (the C function and variable names libbpf looks up). A name that drifts
/// from the C fails BpfNamesTests, not a start. Each object holds one program of its own name, built
/// into bpf/&lt;Object&gt;.bpf.o.
/// </summary>
internal static class SfcBpfNames
{
    /// <summary>XDP on the ingress: pops the SFC headers and caches them.</summary>
    public static class XdpRx
    {
        public const string Object = "xdp_rx", Program = "xdp_rx";
    }

    /// <summary>tc egress: pushes the cached headers back on the packet the VNF emitted.</summary>
    public static class TcTx
    {
        public const string Object = "tc_tx", Program = "tc_tx";
    }

    /// <summary>tc ingress, metadata key mode: moves the key from XDP metadata to skb->mark.</summary>
    public static class MetaMark
    {
        public const string Object = "meta_mark", Program = "meta_mark";
    }

    /// <summary>The header-hash cache's aging pass (never attached; run with BPF_PROG_TEST_RUN).</summary>
    public static class HashAge
    {
        public const string Object = "hash_age", Program = "hash_age";
    }

    /// <summary>
    /// The maps of sfc_maps.h. The objects that declare the same map share it through the instance's
    /// pin directory; the scratch maps are per-CPU working space of one program.
    /// </summary>
    public static class Maps
    {
        public const string Config = "sfc_config";
        public const string Counters = "sfc_counters";
        public const string MetaCache = "sfc_meta_cache";
        public const string HashCache = "sfc_hash_cache";
        public const string VnfPort = "sfc_vnf_port";
        public const string MetaSeq = "sfc_meta_seq";
        public const string Latency = "sfc_latency";
        public const string FragGroups = "sfc_frag_groups";
        public const string RxScratch = "sfc_rx_scratch";
        public const string RxIdent = "sfc_rx_ident";
        public const string TxScratch = "sfc_tx_scratch";
        public const string TxIdent = "sfc_tx_ident";
        public const string TxEntry = "sfc_tx_entry";
        public const string IcmpScratch = "sfc_icmp_scratch";
        public const string IcmpRate = "sfc_icmp_rate";
    }
}
