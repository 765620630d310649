using System.Buffers.Binary;
using System.Net;
using SfcProxy.Net;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>A frame the VNF emits and the skb mark it carries to tc_tx.</summary>
internal readonly record struct Emitted(byte[] Frame, uint Mark);

/// <summary>The L2 header a VNF puts on what it emits: its next hop, its egress MAC, its VLAN tags.</summary>
internal sealed record VnfL2(byte[] Dst, (ushort Tpid, ushort Vid)[] Tags);

/// <summary>Copies of one packet a duplicating VNF emits: the first one to leave must be restored.</summary>
internal sealed class DuplicateCopies
{
    public int Emitted { get; set; }
}

/// <summary>
/// One frame the VNF emits, planned with the episode and made when it is its turn, from what xdp_rx
/// actually handed the VNF. <see cref="Source"/> is the packet X it derives from (EXPECTED(X) is what
/// it must leave with); none for a packet the VNF originates.
/// </summary>
internal sealed class Emission
{
    public required string Behaviour { get; init; }
    public ContractPacket? Source { get; init; }
    /// <summary>Packets that must have been popped for the VNF to have anything to emit.</summary>
    public required IReadOnlyList<ContractPacket> Needs { get; init; }
    public required Func<Emitted> Make { get; init; }
    /// <summary>What the VNF did makes a counted miss acceptable (NAT in header-hash mode, a changed
    /// mark, a reassembled datagram in header-hash mode, a later copy).</summary>
    public bool MissAllowed { get; init; }
    /// <summary>Never derived from a popped packet: only a miss is acceptable.</summary>
    public bool MustMiss { get; init; }
    public DuplicateCopies? Copies { get; init; }
    public int DueEpisode { get; set; }
}

/// <summary>
/// What an SFC-unaware VNF does to the packets it forwards, applied to the packet it was handed:
/// route (TTL - 1), rewrite DSCP/ECN or TTL, clamp the TCP MSS, NAT, reassemble and refragment.
/// Every rewrite fixes the checksums, as the kernel does.
/// </summary>
internal static class Vnf
{
    /// <summary>The IP packet in the frame xdp_rx handed the VNF (padding dropped, as the IP layer trims it).</summary>
    public static byte[] Received(ContractPacket x)
    {
        var f = x.Rx.Frame;
        return Wire.IpAt(f, Wire.L2Length(f));
    }

    /// <summary>The mark the packet has when it reaches the egress: what meta_mark set from the XDP metadata.</summary>
    public static uint Mark(ContractPacket x) => x.Rx.MetaKey ?? 0;

    public static byte[] Frame(VnfL2 l2, byte[] ip)
    {
        var p = Packet.Eth(l2.Dst, KernelVnf.EgressMac);
        foreach (var (tpid, vid) in l2.Tags)
            p = p.Vlan(vid, tpid);
        return p.Ip(ip).Build();
    }

    /// <summary>A routing hop: TTL / hop limit - 1 (a TTL of 1 is left as it is, bridge-like).</summary>
    public static byte[] Route(byte[] ip)
    {
        var r = (byte[])ip.Clone();
        var ttl = IpFields.Ttl(r);
        if (ttl > 1)
            IpFields.SetTtl(r, (byte)(ttl - 1));
        IpFields.FixChecksums(r);
        return r;
    }

    public static byte[] SetTrafficClass(byte[] ip, byte tc)
    {
        var r = Route(ip);
        IpFields.SetTrafficClass(r, tc);
        IpFields.FixChecksums(r);
        return r;
    }

    public static byte[] SetTtl(byte[] ip, byte ttl)
    {
        var r = (byte[])ip.Clone();
        IpFields.SetTtl(r, ttl);
        IpFields.FixChecksums(r);
        return r;
    }

    /// <summary>MSS clamping: the MSS option of a TCP SYN lowered to <paramref name="mss"/>, checksum fixed.</summary>
    public static byte[] ClampMss(byte[] ip, ushort mss)
    {
        var r = Route(ip);
        var info = IpInfo.Parse(r);
        if (info.Protocol != IpFields.Tcp || info.TransportOffset < 0 || r.Length < info.TransportOffset + 20)
            return r;
        var t = info.TransportOffset;
        var end = t + Math.Min(r.Length - t, (r[t + 12] >> 4) * 4);
        for (var o = t + 20; o < end;)
        {
            var kind = r[o];
            if (kind == 0)
                break;
            if (kind == 1)
            {
                o++;
                continue;
            }
            if (o + 1 >= end || r[o + 1] < 2)
                break;
            if (kind == 2 && r[o + 1] == 4 && BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(o + 2)) > mss)
                BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(o + 2), mss);
            o += r[o + 1];
        }
        IpFields.FixChecksums(r);
        return r;
    }

    /// <summary>NAT: source and/or destination address and port rewritten, checksums fixed.</summary>
    public static byte[] Nat(byte[] ip, string? newSrc, string? newDst, ushort? newSport, ushort? newDport)
    {
        var r = Route(ip);
        var (src, dst, len) = IpFields.Addresses(r);
        if (newSrc is not null)
            IPAddress.Parse(newSrc).GetAddressBytes().AsSpan(0, len).CopyTo(r.AsSpan(src));
        if (newDst is not null)
            IPAddress.Parse(newDst).GetAddressBytes().AsSpan(0, len).CopyTo(r.AsSpan(dst));
        var info = IpInfo.Parse(r);
        if (info.Protocol is IpFields.Tcp or IpFields.Udp && info.TransportOffset >= 0 && r.Length >= info.TransportOffset + 4)
        {
            if (newSport is { } sp)
                BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(info.TransportOffset), sp);
            if (newDport is { } dp)
                BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(info.TransportOffset + 2), dp);
        }
        IpFields.FixChecksums(r);
        return r;
    }

    /// <summary>A copy of the packet with <paramref name="patch"/> applied and its checksums fixed
    /// (the generator makes near-collisions this way: one field different, all others equal).</summary>
    public static byte[] Patched(byte[] ip, Action<byte[], IpInfo> patch)
    {
        var r = (byte[])ip.Clone();
        patch(r, IpInfo.Parse(r));
        IpFields.FixChecksums(r);
        return r;
    }
}
