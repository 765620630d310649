using System.Buffers.Binary;
using SfcProxy.Net;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>
/// What the contract model reads in a frame: the L2 header's length and innermost ethertype. The
/// model never derives a cache key; it reads frames only to build what the VNF emits and what the
/// egress must send.
/// </summary>
internal static class Wire
{
    public const ushort Vlan = 0x8100, QinQ = 0x88A8, IPv4 = 0x0800, IPv6 = 0x86DD, Mpls = 0x8847, Nsh = 0x894F;

    /// <summary>Ethernet header plus its VLAN tags, up to the innermost ethertype included.</summary>
    public static int L2Length(ReadOnlySpan<byte> f)
    {
        var off = 12;
        while (off + 2 <= f.Length && BinaryPrimitives.ReadUInt16BigEndian(f[off..]) is Vlan or QinQ)
            off += 4;
        return off + 2;
    }

    /// <summary>The L2 header <paramref name="l2"/> with its innermost ethertype replaced.</summary>
    public static byte[] WithEtherType(ReadOnlySpan<byte> l2, ushort type)
    {
        var b = l2.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(b.Length - 2), type);
        return b;
    }

    /// <summary>The IP packet at <paramref name="offset"/> of a frame, without Ethernet padding after it.</summary>
    public static byte[] IpAt(byte[] frame, int offset)
    {
        var ip = frame.AsSpan(offset);
        var info = IpInfo.Parse(ip);
        return ip[..Math.Min(ip.Length, info.TotalLength)].ToArray();
    }

    public static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b);
}

/// <summary>
/// The parts of an IP packet the VNF behaviours rewrite and the fragmenter splits: lengths, the
/// transport header behind any IPv6 extension headers, fragment fields.
/// </summary>
internal readonly record struct IpInfo(int Version, int HeaderLength, int TotalLength, byte Protocol, int TransportOffset,
    bool IsFragment, int FragmentOffset, bool MoreFragments, uint FragmentId, int FragmentHeaderOffset,
    int UnfragmentableLength, int UnfragmentableNextHeaderAt)
{
    /// <summary>IPv6 extension headers walked at most (the packets the generator makes have fewer).</summary>
    private const int MaxExtensions = 8;

    public bool IsV6 => Version == 6;

    public static IpInfo Parse(ReadOnlySpan<byte> ip)
    {
        if (ip[0] >> 4 == 4)
        {
            var hl = (ip[0] & 0x0F) * 4;
            var total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
            var frag = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
            var offset = (frag & 0x1FFF) * 8;
            var more = (frag & 0x2000) != 0;
            return new IpInfo(4, hl, total, ip[9], offset == 0 ? hl : -1, offset != 0 || more, offset, more,
                BinaryPrimitives.ReadUInt16BigEndian(ip[4..]), -1, hl, -1);
        }

        var length = 40 + BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        byte next = ip[6];
        var nextAt = 6;
        var off = 40;
        int unfragLength = 40, unfragNextAt = 6, fragAt = -1, fragOffset = 0;
        var moreFrags = false;
        uint fragId = 0;
        for (var i = 0; i < MaxExtensions; i++)
        {
            switch (next)
            {
                case 0 or 43 or 60: // hop-by-hop, routing, destination options
                    {
                        var len = (ip[off + 1] + 1) * 8;
                        if (next != 60)
                        {
                            // per-fragment part (RFC 8200 4.5): up to the last hop-by-hop or routing header
                            unfragLength = off + len;
                            unfragNextAt = off;
                        }
                        nextAt = off;
                        next = ip[off];
                        off += len;
                        continue;
                    }
                case 51: // authentication header
                    {
                        var len = (ip[off + 1] + 2) * 4;
                        nextAt = off;
                        next = ip[off];
                        off += len;
                        continue;
                    }
                case 44: // fragment
                    {
                        fragAt = off;
                        var word = BinaryPrimitives.ReadUInt16BigEndian(ip[(off + 2)..]);
                        fragOffset = (word >> 3) * 8;
                        moreFrags = (word & 1) != 0;
                        fragId = BinaryPrimitives.ReadUInt32BigEndian(ip[(off + 4)..]);
                        unfragLength = off;
                        unfragNextAt = nextAt;
                        nextAt = off;
                        next = ip[off];
                        off += 8;
                        if (fragOffset != 0)
                            return new IpInfo(6, 40, length, next, -1, true, fragOffset, moreFrags, fragId, fragAt, unfragLength, unfragNextAt);
                        continue;
                    }
            }
            break;
        }
        return new IpInfo(6, 40, length, next, off, fragAt >= 0, fragOffset, moreFrags, fragId, fragAt, unfragLength, unfragNextAt);
    }
}

/// <summary>The IP fields a VNF may rewrite, and the checksums it fixes after doing so.</summary>
internal static class IpFields
{
    public const byte Tcp = 6, Udp = 17, Icmp = 1, Icmp6 = 58, Sctp = 132;

    public static byte Ttl(byte[] ip) => ip[0] >> 4 == 4 ? ip[8] : ip[7];

    public static void SetTtl(byte[] ip, byte ttl) => ip[ip[0] >> 4 == 4 ? 8 : 7] = ttl;

    /// <summary>IPv4 TOS / IPv6 traffic class: DSCP (6 bits) and ECN (2 bits).</summary>
    public static void SetTrafficClass(byte[] ip, byte tc)
    {
        if (ip[0] >> 4 == 4)
        {
            ip[1] = tc;
        }
        else
        {
            ip[0] = (byte)((ip[0] & 0xF0) | (tc >> 4));
            ip[1] = (byte)((ip[1] & 0x0F) | (tc << 4));
        }
    }

    public static byte TrafficClass(byte[] ip) =>
        ip[0] >> 4 == 4 ? ip[1] : (byte)(((ip[0] & 0x0F) << 4) | (ip[1] >> 4));

    /// <summary>Source and destination address offsets and length.</summary>
    public static (int Src, int Dst, int Len) Addresses(byte[] ip) => ip[0] >> 4 == 4 ? (12, 16, 4) : (8, 24, 16);

    /// <summary>Recomputes the IPv4 header checksum and, for a whole (unfragmented) datagram, the
    /// TCP, UDP, ICMP or ICMPv6 checksum, as a VNF that rewrote fields does.</summary>
    public static void FixChecksums(byte[] ip)
    {
        var info = IpInfo.Parse(ip);
        if (info.Version == 4)
        {
            ip[10] = ip[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum.Fold(Checksum.Sum(ip.AsSpan(0, info.HeaderLength))));
        }
        if (info.FragmentOffset != 0 || info.MoreFragments || info.TransportOffset < 0)
            return; // a fragment: the transport checksum covers the whole datagram
        var at = info.Protocol switch { Tcp => 16, Udp => 6, Icmp or Icmp6 => 2, _ => -1 };
        var segment = ip.AsSpan(info.TransportOffset, info.TotalLength - info.TransportOffset);
        if (at < 0 || segment.Length < at + 2)
            return;
        segment[at] = segment[at + 1] = 0;
        var sum = Checksum.Sum(segment);
        if (info.Protocol != Icmp)
        {
            var (src, dst, len) = Addresses(ip);
            sum += Checksum.Sum(ip.AsSpan(src, len)) + Checksum.Sum(ip.AsSpan(dst, len)) + info.Protocol + (uint)segment.Length;
        }
        var c = Checksum.Fold(sum);
        if (info.Protocol == Udp && c == 0)
            c = 0xFFFF;
        BinaryPrimitives.WriteUInt16BigEndian(segment[at..], c);
    }

    /// <summary>
    /// What the README says a metadata fingerprint of kind "nat" covers, and nothing else: family,
    /// upper-layer protocol, IP length, IPv4 identification, the first 12 bytes of the upper-layer
    /// header but for ports, UDP/ICMP checksums, SCTP's CRC and the ICMP identifier (as many as exist), the TCP
    /// flags an endpoint sets, and the payload after the upper-layer header. Two packets equal here
    /// are ones that mode cannot tell apart (README: a changed mark between them is not caught). A
    /// fragment of a datagram is judged as part of its datagram, not by these: for it, the packet
    /// less addresses, ports and ICMP identifier. An IPv6 atomic fragment counts as the packet without
    /// its fragment header (README, header-hash key).
    /// </summary>
    public static byte[] NatNormalized(byte[] packet)
    {
        var ip = Normalized(packet);
        var info = IpInfo.Parse(ip);
        var t = info.TransportOffset;
        var atomic = info.IsV6 && info.IsFragment && info.FragmentOffset == 0 && !info.MoreFragments;
        if (t < 0 || (info.IsFragment && !atomic))
        {
            var (at, _, len) = Addresses(ip);
            ip.AsSpan(at, 2 * len).Clear();
            if (info.Protocol is Tcp or Udp or Sctp && t >= 0 && ip.Length >= t + 4)
                ip.AsSpan(t, 4).Clear();
            else if (info.Protocol is Icmp or Icmp6 && t >= 0 && ip.Length >= t + 6)
                ip[t + 4] = ip[t + 5] = 0;
            return ip;
        }
        var ipLength = info.TotalLength - (atomic ? 8 : 0);
        var end = Math.Min(ip.Length, info.TotalLength);
        var l4 = ip.AsSpan(t, Math.Max(0, end - t));
        var head = l4[..Math.Min(12, l4.Length)].ToArray();
        int payloadAt;
        switch (info.Protocol)
        {
            case Tcp:
                head.AsSpan(0, Math.Min(4, head.Length)).Clear();
                payloadAt = l4.Length >= 20 ? Math.Min(l4.Length, (l4[12] >> 4) * 4) : l4.Length;
                break;
            case Udp:
                head.AsSpan(0, Math.Min(4, head.Length)).Clear();
                if (head.Length > 6)
                    head.AsSpan(6, Math.Min(2, head.Length - 6)).Clear();
                payloadAt = Math.Min(8, l4.Length);
                break;
            case Icmp or Icmp6:
                if (head.Length > 2)
                    head.AsSpan(2, Math.Min(4, head.Length - 2)).Clear();
                payloadAt = Math.Min(8, l4.Length);
                break;
            case Sctp: // ports; the CRC is cleared already (Normalized)
                head.AsSpan(0, Math.Min(4, head.Length)).Clear();
                payloadAt = Math.Min(12, l4.Length);
                break;
            default:
                payloadAt = 0;
                break;
        }
        byte[] ipv4Id = info.Version == 4 ? ip[4..6] : [];
        byte[] flags = info.Protocol == Tcp && l4.Length > 13 ? [(byte)(l4[13] & 0x3F)] : [];
        return [(byte)info.Version, info.Protocol, (byte)(ipLength >> 8), (byte)ipLength, .. ipv4Id,
            (byte)head.Length, .. head, .. flags, .. l4[payloadAt..]];
    }

    /// <summary>
    /// The packet with the fields the contract lets a VNF rewrite without changing which packet it
    /// is zeroed: IPv4 TOS, TTL and header checksum, IPv6 traffic class and hop limit, the TCP
    /// window, options and checksum, the UDP, ICMP and ICMPv6 checksums, SCTP's CRC32c. Two packets equal here may
    /// be impossible to tell apart for a header-hash key (the model's "similar"); it says nothing of
    /// which fields the datapath keys.
    /// </summary>
    public static byte[] Normalized(byte[] packet)
    {
        var info = IpInfo.Parse(packet);
        var ip = packet[..Math.Min(packet.Length, info.TotalLength)];
        SetTrafficClass(ip, 0);
        SetTtl(ip, 0);
        if (info.Version == 4)
            ip[10] = ip[11] = 0;
        if (info.TransportOffset < 0)
            return ip;
        var t = info.TransportOffset;
        switch (info.Protocol)
        {
            case Tcp when ip.Length >= t + 20:
                var dataOffset = Math.Min(ip.Length - t, (ip[t + 12] >> 4) * 4);
                ip.AsSpan(t + 14, 4).Clear(); // window, checksum
                if (dataOffset > 20)
                    ip.AsSpan(t + 20, dataOffset - 20).Clear();
                break;
            case Udp when ip.Length >= t + 8:
                ip[t + 6] = ip[t + 7] = 0;
                break;
            case Icmp or Icmp6 when ip.Length >= t + 4:
                ip[t + 2] = ip[t + 3] = 0;
                break;
            case Sctp:
                ip.AsSpan(Math.Min(ip.Length, t + 8), Math.Clamp(ip.Length - t - 8, 0, 4)).Clear(); // the CRC32c
                break;
        }
        return ip;
    }
}

/// <summary>Splits a datagram into fragments and puts fragments back together, as a sender and a
/// reassembling (conntrack) VNF do: IPv4 (RFC 791) and IPv6 (RFC 8200 4.5).</summary>
internal static class Fragments
{
    /// <summary>Fragments of <paramref name="datagram"/> carrying <paramref name="chunk"/> bytes (a
    /// multiple of 8) of its fragmentable part each, the last one the rest. IPv4 copies the whole
    /// header (options included) into every fragment; IPv6 puts a fragment header with
    /// <paramref name="v6Id"/> after the per-fragment headers.</summary>
    public static List<byte[]> Split(byte[] datagram, int chunk, uint v6Id)
    {
        if (chunk <= 0 || chunk % 8 != 0)
            throw new ArgumentException($"fragment size {chunk}: a positive multiple of 8");
        var info = IpInfo.Parse(datagram);
        var result = new List<byte[]>();
        if (info.Version == 4)
        {
            var hl = info.HeaderLength;
            var payload = datagram.AsSpan(hl, info.TotalLength - hl);
            var flags = BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(6)) & 0x8000; // reserved bit kept, DF cleared
            for (var off = 0; off < payload.Length; off += chunk)
            {
                var len = Math.Min(chunk, payload.Length - off);
                var f = new byte[hl + len];
                datagram.AsSpan(0, hl).CopyTo(f);
                payload.Slice(off, len).CopyTo(f.AsSpan(hl));
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(2), (ushort)f.Length);
                var more = off + len < payload.Length ? 0x2000 : 0;
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(6), (ushort)(flags | more | (off / 8)));
                IpFields.FixChecksums(f);
                result.Add(f);
            }
            return result;
        }

        var unfrag = datagram.AsSpan(0, info.UnfragmentableLength);
        var rest = datagram.AsSpan(info.UnfragmentableLength, info.TotalLength - info.UnfragmentableLength);
        var firstNext = datagram[info.UnfragmentableNextHeaderAt];
        for (var off = 0; off < rest.Length || off == 0; off += chunk)
        {
            var len = Math.Min(chunk, rest.Length - off);
            var f = new byte[unfrag.Length + 8 + len];
            unfrag.CopyTo(f);
            f[info.UnfragmentableNextHeaderAt] = 44;
            var fh = f.AsSpan(unfrag.Length, 8);
            fh[0] = firstNext;
            var more = off + len < rest.Length ? 1 : 0;
            BinaryPrimitives.WriteUInt16BigEndian(fh[2..], (ushort)((off / 8) << 3 | more));
            BinaryPrimitives.WriteUInt32BigEndian(fh[4..], v6Id);
            rest.Slice(off, len).CopyTo(f.AsSpan(unfrag.Length + 8));
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(4), (ushort)(f.Length - 40));
            result.Add(f);
            if (len == 0)
                break;
        }
        return result;
    }

    /// <summary>The datagram the fragments make, or null when some are missing.</summary>
    public static byte[]? Reassemble(IEnumerable<byte[]> fragments)
    {
        var parts = fragments.Select(f => (Ip: f, Info: IpInfo.Parse(f))).OrderBy(p => p.Info.FragmentOffset).ToList();
        if (parts.Count == 0 || parts[0].Info.FragmentOffset != 0 || parts[^1].Info.MoreFragments)
            return null;
        var first = parts[0];
        var headerLength = first.Info.Version == 4 ? first.Info.HeaderLength : first.Info.FragmentHeaderOffset;
        var body = new List<byte>();
        foreach (var (ip, info) in parts)
        {
            if (info.FragmentOffset != body.Count)
                return null; // a hole or an overlap
            var start = info.Version == 4 ? info.HeaderLength : info.FragmentHeaderOffset + 8;
            body.AddRange(ip.AsSpan(start, info.TotalLength - start).ToArray());
        }
        var d = new byte[headerLength + body.Count];
        first.Ip.AsSpan(0, headerLength).CopyTo(d);
        body.CopyTo(d, headerLength);
        if (first.Info.Version == 4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(2), (ushort)d.Length);
            BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(6), 0);
        }
        else
        {
            d[first.Info.UnfragmentableNextHeaderAt] = first.Ip[first.Info.FragmentHeaderOffset];
            BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(4), (ushort)(d.Length - 40));
        }
        IpFields.FixChecksums(d);
        return d;
    }
}
