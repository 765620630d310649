using System.Buffers.Binary;

namespace SfcProxy.Proxy.Datapath;

/// <summary>One RFC 3032 label stack entry: label (20 bits), traffic class (3), bottom of stack, TTL.</summary>
public readonly record struct LabelStackEntry(uint Label, byte TrafficClass, bool BottomOfStack, byte Ttl)
{
    public const uint MaxLabel = (1u << 20) - 1;

    /// <summary>The entry as the 32-bit word the wire carries, in host byte order.</summary>
    public uint ToHostOrder() =>
        (Label << 12) | ((uint)(TrafficClass & 7) << 9) | (BottomOfStack ? 1u << 8 : 0) | Ttl;

    /// <summary>The entry as the datapath stores it: the wire bytes read as a native integer.</summary>
    public uint ToNetworkOrder() =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(ToHostOrder()) : ToHostOrder();

    public static LabelStackEntry FromHostOrder(uint word) =>
        new(word >> 12, (byte)((word >> 9) & 7), (word & 0x100) != 0, (byte)word);

    public static LabelStackEntry FromNetworkOrder(uint word) =>
        FromHostOrder(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(word) : word);

    public override string ToString() => $"{Label}/tc{TrafficClass}/ttl{Ttl}{(BottomOfStack ? "/S" : "")}";
}
