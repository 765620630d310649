using System.Buffers.Binary;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>The SCTP packet the audit tests send (RFC 9260 3): a common header, then one DATA chunk.</summary>
internal static class SctpPacket
{
    public const byte Protocol = 132;

    /// <summary>Ports 2905 -> 2905 (as M3UA uses), a verification tag, CRC 0 (as offload leaves
    /// it), then a DATA chunk of 16 + 20 bytes.</summary>
    public static byte[] WithData() =>
        [0x0B, 0x59, 0x0B, 0x59, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0,
         0, 0x03, 0, 36, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, .. Enumerable.Range(1, 20).Select(i => (byte)i)];

    /// <summary>Writes the CRC32c of the packet (RFC 9260 6.8: over the packet with the field zero),
    /// least significant byte first as Linux stores it.</summary>
    public static void SetCrc(Span<byte> sctp)
    {
        sctp.Slice(8, 4).Clear();
        uint crc = 0xFFFFFFFFu;
        foreach (var b in sctp)
            crc = System.Numerics.BitOperations.Crc32C(crc, b);
        BinaryPrimitives.WriteUInt32LittleEndian(sctp[8..], ~crc);
    }
}
