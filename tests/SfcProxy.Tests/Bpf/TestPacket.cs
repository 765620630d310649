using System.Buffers.Binary;

namespace SfcProxy.Tests.Bpf;

/// <summary>Minimal well-formed frames for feeding programs through BPF_PROG_TEST_RUN.</summary>
internal static class TestPacket
{
    /// <summary>Ethernet + IPv4 + UDP 10.0.0.1:1000 -> 10.0.0.2:2000 with a counting payload.</summary>
    public static byte[] EthernetIpv4Udp(int payloadLength = 32)
    {
        const int ethLength = 14, ipLength = 20, udpLength = 8;
        byte[] frame = new byte[ethLength + ipLength + udpLength + payloadLength];
        Span<byte> eth = frame.AsSpan(0, ethLength);
        new byte[] { 0x02, 0, 0, 0, 0, 0x02 }.CopyTo(eth);          // destination MAC
        new byte[] { 0x02, 0, 0, 0, 0, 0x01 }.CopyTo(eth[6..]);     // source MAC
        BinaryPrimitives.WriteUInt16BigEndian(eth[12..], 0x0800);  // IPv4

        Span<byte> ip = frame.AsSpan(ethLength, ipLength);
        ip[0] = 0x45;                                              // version 4, IHL 5
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(ipLength + udpLength + payloadLength));
        ip[8] = 64;                                                // TTL
        ip[9] = 17;                                                // UDP
        new byte[] { 10, 0, 0, 1 }.CopyTo(ip[12..]);
        new byte[] { 10, 0, 0, 2 }.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Ipv4Checksum(ip));

        Span<byte> udp = frame.AsSpan(ethLength + ipLength, udpLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp, 1000);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 2000);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(udpLength + payloadLength));

        for (int i = 0; i < payloadLength; i++)
        {
            frame[ethLength + ipLength + udpLength + i] = (byte)i;
        }
        return frame;
    }

    private static ushort Ipv4Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (int i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }
}
