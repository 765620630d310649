using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy.Options;

/// <summary>One SR-MPLS label stack entry (RFC 3032) of the static fallback stack.</summary>
public sealed class LabelEntryOptions
{
    /// <summary>Largest 20-bit label value.</summary>
    public const int MaxLabel = (1 << 20) - 1;

    /// <summary>Label value, 0..1048575.</summary>
    public int Label { get; set; }

    /// <summary>Time to live, 1..255. Default 64.</summary>
    public int Ttl { get; set; } = 64;

    /// <summary>Traffic class (the former EXP bits), 0..7. Default 0.</summary>
    public int Tc { get; set; }

    /// <summary>
    /// The 32-bit entry as it sits on the wire, read as a host integer (what sfc_config.static_labels
    /// holds: "network byte order, TTL and BoS as pushed").
    /// </summary>
    internal uint ToNetworkOrder(bool bottomOfStack) =>
        new LabelStackEntry((uint)Label, (byte)Tc, bottomOfStack, (byte)Ttl).ToNetworkOrder();

    /// <summary>Encodes a validated stack, setting bottom-of-stack on the last entry only.</summary>
    internal static uint[] EncodeStack(IList<LabelEntryOptions> stack)
    {
        var encoded = new uint[stack.Count];
        for (int i = 0; i < stack.Count; i++)
            encoded[i] = stack[i].ToNetworkOrder(bottomOfStack: i == stack.Count - 1);
        return encoded;
    }
}
