using System.Net;
using System.Net.Sockets;

namespace SfcProxy.Policy;

/// <summary>A packet to check against the policy: addresses, protocol number, destination port (0 for none).</summary>
public sealed record PolicyCheck(IPAddress Source, IPAddress Destination, byte Protocol, ushort Port)
{
    /// <summary>
    /// Builds a check from text (control request or command line). Protocol: tcp, udp, icmp (ICMPv6
    /// for IPv6 addresses), icmpv6, any, or a number.
    /// </summary>
    /// <returns>null with <paramref name="error"/> set when a value is bad.</returns>
    public static PolicyCheck? TryCreate(string? source, string? destination, string? protocol, int port, out string error)
    {
        var errors = new List<string>();
        IPAddress? src = Address(source, "src", errors);
        IPAddress? dst = Address(destination, "dst", errors);
        if (src is not null && dst is not null && src.AddressFamily != dst.AddressFamily)
            errors.Add($"src {src} and dst {dst} are of different address families");
        bool ipv6 = dst?.AddressFamily == AddressFamily.InterNetworkV6;
        byte proto = 0;
        if (string.IsNullOrWhiteSpace(protocol))
            errors.Add("proto: required (tcp, udp, icmp, icmpv6, any or a number)");
        else if (protocol.Equals("any", StringComparison.OrdinalIgnoreCase))
            proto = PolicyProtocol.Any;
        else if (!PolicyProtocol.TryParsePacketProtocol(protocol, ipv6, out proto))
            errors.Add($"proto: '{protocol}' is not tcp, udp, icmp, icmpv6, any or a number 0..255");
        if (port is < 0 or > ushort.MaxValue)
            errors.Add($"port: {port} is out of range 0..65535");
        else if (port != 0 && errors.Count == 0 && !PolicyProtocol.HasPorts(proto))
            errors.Add($"port: {PolicyProtocol.NameOf(proto)} has no ports; leave port out");
        else if (port == 0 && errors.Count == 0 && PolicyProtocol.HasPorts(proto))
            errors.Add($"port: required for {PolicyProtocol.NameOf(proto)}");

        error = string.Join("; ", errors);
        return errors.Count == 0 ? new PolicyCheck(src!, dst!, proto, (ushort)port) : null;
    }

    private static IPAddress? Address(string? text, string field, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{field}: required (an IPv4 or IPv6 address)");
            return null;
        }
        if (IPAddress.TryParse(text, out var address))
            return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        errors.Add($"{field}: '{text}' is not an IPv4 or IPv6 address");
        return null;
    }
}
