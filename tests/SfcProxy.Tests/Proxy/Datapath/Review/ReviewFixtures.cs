using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;

namespace SfcProxy.Tests.Proxy.Datapath.Review;

/// <summary>Helpers of the datapath review tests: hand-made fragments, frames around a given IP packet.</summary>
internal static class ReviewFixtures
{
    public static byte[] Sfc(byte[] ip, LabelStackEntry[] stack) => Stacks.Push(Packet.Eth(), stack).Ip(ip).Build();

    public static byte[] FromVnf(byte[] ip) => Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac).Ip(ip).Build();

    public static byte[] Restored(byte[] ip, LabelStackEntry[] stack, int consumed = 1) =>
        Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(stack, consumed)).Ip(ip).Build();

    /// <summary>
    /// IPv6 fragments of <paramref name="datagram"/> (an IPv6 packet without extension headers in its
    /// unfragmentable part): everything after the fixed header is fragmentable, split into pieces of at
    /// most <paramref name="chunk"/> bytes (a multiple of 8), each behind a fragment header whose next
    /// header is the datagram's first one, as ip6_fragment() does.
    /// </summary>
    public static List<byte[]> Ipv6Fragments(byte[] datagram, int chunk, uint id, byte? hopLimit = null)
    {
        var fragmentable = datagram[40..];
        var first = datagram[6];
        var list = new List<byte[]>();
        for (var off = 0; off < fragmentable.Length; off += chunk)
        {
            var n = Math.Min(chunk, fragmentable.Length - off);
            var more = off + n < fragmentable.Length;
            var p = new byte[40 + 8 + n];
            datagram.AsSpan(0, 40).CopyTo(p);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)(8 + n));
            p[6] = 44;
            if (hopLimit is { } h)
                p[7] = h;
            p[40] = first;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(42), (ushort)(off | (more ? 1 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(44), id);
            fragmentable.AsSpan(off, n).CopyTo(p.AsSpan(48));
            list.Add(p);
        }
        return list;
    }

    /// <summary>IPv4 fragments of <paramref name="datagram"/> (IPv4, no options), at most <paramref name="chunk"/>
    /// payload bytes each (a multiple of 8).</summary>
    public static List<byte[]> Ipv4Fragments(byte[] datagram, int chunk)
    {
        var payload = datagram[20..];
        var list = new List<byte[]>();
        for (var off = 0; off < payload.Length; off += chunk)
        {
            var n = Math.Min(chunk, payload.Length - off);
            var more = off + n < payload.Length;
            var p = new byte[20 + n];
            datagram.AsSpan(0, 20).CopyTo(p);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(20 + n));
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), (ushort)((more ? 0x2000 : 0) | (off / 8)));
            payload.AsSpan(off, n).CopyTo(p.AsSpan(20));
            FixIpv4Checksum(p);
            list.Add(p);
        }
        return list;
    }

    /// <summary>The VNF's hop on a bare IP packet: TTL / hop limit - 1.</summary>
    public static byte[] Hop(byte[] ip)
    {
        var p = (byte[])ip.Clone();
        if (p[0] >> 4 == 4)
        {
            p[8]--;
            FixIpv4Checksum(p);
        }
        else
        {
            p[7]--;
        }
        return p;
    }

    public static void FixIpv4Checksum(byte[] ip)
    {
        var hl = (ip[0] & 0x0F) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum.Fold(Checksum.Sum(ip.AsSpan(0, hl))));
    }

    public static string Moved(ProxyUnderTest proxy) => XdpRxFixtureTests.Format(proxy.Moved());
}
