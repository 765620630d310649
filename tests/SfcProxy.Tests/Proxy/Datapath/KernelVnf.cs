using System.Buffers.Binary;
using SfcProxy.Net;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// What an SFC-unaware kernel VNF does to a packet it forwards: new Ethernet addresses, IPv4 TTL
/// (with a new header checksum) or IPv6 hop limit minus one. Used between xdp_rx and tc_tx in the
/// test-run fixtures so that the header-hash key is shown to ignore exactly those fields.
/// </summary>
internal static class KernelVnf
{
    public static readonly byte[] NextHopMac = [0x02, 0xAA, 0, 0, 0, 0x02];
    public static readonly byte[] EgressMac = [0x02, 0xAA, 0, 0, 0, 0x01];

    public static byte[] Forward(byte[] frame)
    {
        var f = (byte[])frame.Clone();
        NextHopMac.CopyTo(f, 0);
        EgressMac.CopyTo(f, 6);
        var ip = L2Length(f);
        if ((f[ip] >> 4) == 4)
        {
            f[ip + 8]--;
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(ip + 10), 0);
            var hl = (f[ip] & 0x0F) * 4;
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(ip + 10), Checksum.Fold(Checksum.Sum(f.AsSpan(ip, hl))));
        }
        else
        {
            f[ip + 7]--;
        }
        return f;
    }

    /// <summary>Ethernet header plus in-band VLAN tags.</summary>
    public static int L2Length(byte[] f)
    {
        var off = 12;
        while (BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(off)) is 0x8100 or 0x88A8)
            off += 4;
        return off + 2;
    }
}
