namespace SfcProxy.Configuration;

/// <summary>How xdp_rx is attached to the ingress interface.</summary>
public enum XdpMode
{
    /// <summary>Driver (native) XDP: runs before the skb is built. Needs driver support.</summary>
    Native,
    /// <summary>Generic (skb) XDP: works on any interface, at skb cost. For veths in labs and tests.</summary>
    Generic,
}
