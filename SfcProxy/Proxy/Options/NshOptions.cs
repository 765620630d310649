namespace SfcProxy.Proxy.Options;

/// <summary>How restored NSH packets are framed.</summary>
public sealed class NshOptions
{
    /// <summary>
    /// Destination MAC ("aa:bb:cc:dd:ee:ff") of the outer Ethernet header put back in front of an
    /// NSH packet whose next protocol is Ethernet (the VNF emitted an Ethernet frame). Absent: the
    /// source MAC of the frame the packet arrived in, i.e. back to the SFF that sent it (RFC 7665).
    /// NSH packets carrying IP keep the Ethernet header of the VNF's own routing instead.
    /// </summary>
    public string? NextHopMac { get; set; }
}
