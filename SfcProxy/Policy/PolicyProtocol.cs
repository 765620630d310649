namespace SfcProxy.Policy;

/// <summary>
/// Protocol names of policy files and of <c>sfcproxy policy check</c>. <c>icmp</c> in a rule means
/// ICMP for IPv4 and ICMPv6 for IPv6 (an identity may have CIDRs of both families), so it compiles
/// to entries for both protocol numbers.
/// </summary>
public static class PolicyProtocol
{
    public const byte Any = 0, Icmp = 1, Tcp = 6, Udp = 17, IcmpV6 = 58;

    /// <summary>Names a rule's <c>protocol</c> accepts.</summary>
    public const string RuleNames = "tcp, udp, icmp, any";

    /// <summary>Protocol numbers a rule's <c>protocol</c> name stands for; null for an unknown name.</summary>
    public static byte[]? OfRuleName(string name) => name.ToLowerInvariant() switch
    {
        "tcp" => [Tcp],
        "udp" => [Udp],
        "icmp" => [Icmp, IcmpV6],
        "any" => [Any],
        _ => null,
    };

    /// <summary>True for protocols whose entries carry a port.</summary>
    public static bool HasPorts(byte protocol) => protocol is Tcp or Udp;

    /// <summary>The protocol of a checked packet: a name (tcp, udp, icmp, icmpv6) or a number 0..255.</summary>
    /// <param name="ipv6">Whether the packet is IPv6: "icmp" then means ICMPv6.</param>
    public static bool TryParsePacketProtocol(string text, bool ipv6, out byte protocol)
    {
        switch (text.ToLowerInvariant())
        {
            case "tcp": protocol = Tcp; return true;
            case "udp": protocol = Udp; return true;
            case "icmp": protocol = ipv6 ? IcmpV6 : Icmp; return true;
            case "icmpv6": protocol = IcmpV6; return true;
            default: return byte.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out protocol);
        }
    }

    public static string NameOf(byte protocol) => protocol switch
    {
        Any => "any",
        Icmp => "icmp",
        Tcp => "tcp",
        Udp => "udp",
        IcmpV6 => "icmpv6",
        _ => protocol.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
