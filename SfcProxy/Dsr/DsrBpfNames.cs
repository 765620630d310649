namespace SfcProxy.Dsr;

/// <summary>
/// The DSR module's BPF objects, programs and maps by name, as bpf/dsr declares them (the C function
/// and variable names libbpf looks up). A name that drifts from the C fails BpfNamesTests, not a
/// start. Each object holds one program of its own name, built into bpf/&lt;Object&gt;.bpf.o.
/// </summary>
internal static class DsrBpfNames
{
    /// <summary>The load balancer (XDP on the client-facing interface).</summary>
    public static class Lb
    {
        public const string Object = "dsr_lb", Program = "dsr_lb";
    }

    /// <summary>The backend's decapsulation (tc ingress).</summary>
    public static class Decap
    {
        public const string Object = "dsr_decap", Program = "dsr_decap";
    }

    /// <summary>The maps of both objects (each object declares its own; they share none).</summary>
    public static class Maps
    {
        public const string Config = "dsr_config";
        public const string Services = "dsr_services";
        public const string Services6 = "dsr_services6";
        public const string Backends = "dsr_backends";
        public const string Maglev = "dsr_maglev";
        public const string Connections = "dsr_conns";
        public const string Connections6 = "dsr_conns6";
        public const string IpIds = "dsr_ip_ids";
        public const string IcmpRate = "dsr_icmp_rate";
        public const string Counters = "dsr_counters";
        public const string BackendTraffic = "dsr_backend_traffic";
        public const string ServiceTraffic = "dsr_service_traffic";
        public const string Nexthops = "dsr_nexthops";
        public const string DecapVips = "dsr_decap_vips";
        public const string DecapVips6 = "dsr_decap_vips6";
        public const string DecapCounters = "dsr_decap_counters";
    }
}
