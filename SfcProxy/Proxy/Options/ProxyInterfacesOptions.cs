namespace SfcProxy.Proxy.Options;

/// <summary>The interfaces the proxy attaches to (names in the daemon's network namespace). The section
/// being in the file is what turns the SFC proxy on (<see cref="ProxySection"/>).</summary>
public sealed class ProxyInterfacesOptions
{
    /// <summary>Required. Interface the SFC-encapsulated packets arrive on; xdp_rx attaches here.</summary>
    public string? Ingress { get; set; }

    /// <summary>Required. Interface the VNF's packets leave by; tc_tx attaches to its egress.</summary>
    public string? Egress { get; set; }

    /// <summary>
    /// Optional. When the VNF lives in its own namespace, popped packets are XDP_REDIRECTed to this
    /// interface (the host end of its veth). Absent: popped packets go up the host stack.
    /// </summary>
    public string? Vnf { get; set; }
}
