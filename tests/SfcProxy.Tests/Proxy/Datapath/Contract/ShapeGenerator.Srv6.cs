using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Tests.Proxy.Datapath.Srv6;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>
/// SRv6 shapes (docs/srv6.md; RFC 8754 2, 4.1.1; RFC 8986 4.1): 1-16 segments with the proxy SID
/// anywhere in the list or a reduced SRH, Segments Left 1 drawn often, hop limits 0/1/2 drawn often,
/// Pad1/PadN/HMAC/other TLVs, hop-by-hop and destination options around the SRH, inner IPv4, IPv6
/// or Ethernet; and the bad cases of the verdict table, each with its counter. The proxy SIDs are
/// the ones every <see cref="ProxyUnderTest"/> is loaded with (<see cref="Srv6Sids.Default"/>).
/// </summary>
internal sealed partial class ShapeGenerator
{
    private Srv6Headers RandomSrv6()
    {
        var n = rng.Next(4) switch { 0 => 1, 1 => rng.Next(2, 4), 2 => rng.Next(4, 11), _ => rng.Next(11, 17) };
        // one segment leaves no room for the SID below the next segment: reduced (SL = Last Entry + 1)
        var reduced = n == 1 || rng.Next(4) == 0;
        var sl = reduced ? (byte)n : rng.Next(3) == 0 ? (byte)1 : (byte)rng.Next(1, n);
        var list = Enumerable.Range(0, n).Select(_ => Address(true)).ToArray();
        if (!reduced)
            list[sl] = Srv6Sids.Proxy; // the Segment List entry the packet was sent to (RFC 8754 4.3.1.1 S11 of the previous node)
        var hbh = rng.Next(5) == 0 ? 8 * rng.Next(1, 3) : 0;
        var dstBefore = rng.Next(8) == 0 ? 8 : 0;
        var dstAfter = rng.Next(6) == 0 ? 8 * rng.Next(1, 3) : 0;
        var fixedPart = 40 + hbh + dstBefore + 8 + 16 * n + dstAfter;
        var tlvs = SrhTlvs(SfcLimits.Srv6MaxLength - fixedPart);
        InnerEthernet? eth = rng.Next(5) == 0 ? new InnerEthernet(Mac(), Mac(), Tags(rng.Next(4) == 0 ? 1 : 0)) : null;
        return new Srv6Headers(Address(true), Srv6Sids.Proxy, sl, list, EdgeTtl(255), (uint)rng.Next(1 << 20),
            (byte)(rng.Next(3) == 0 ? rng.Next(256) : 0), tlvs, hbh, dstBefore, dstAfter, eth);
    }

    /// <summary>SRH TLVs (RFC 8754 2.1) that fit in <paramref name="room"/> bytes, padded to 8-byte units
    /// with Pad1 or PadN: none half of the time, else padding only, an HMAC TLV, or a TLV of a type the
    /// proxy does not know (carried as it is).</summary>
    private byte[] SrhTlvs(int room)
    {
        var t = new List<byte>();
        switch (rng.Next(8))
        {
            case 0:
                t.AddRange(Srv6Chain.Padding);
                break;
            case 1 or 2 when room >= Srv6Chain.Hmac.Length:
                t.AddRange([5, 38, 0, 0, .. Bytes(4), .. Bytes(32)]);
                break;
            case 3:
                {
                    var len = rng.Next(0, 24);
                    t.AddRange([(byte)rng.Next(6, 256), (byte)len, .. Bytes(len)]);
                    break;
                }
            default:
                return [];
        }
        var pad = (8 - t.Count % 8) % 8;
        if (pad == 1)
            t.Add(0); // Pad1
        else if (pad > 1)
            t.AddRange([1, (byte)(pad - 2), .. new byte[pad - 2]]); // PadN
        return t.Count <= room ? [.. t] : [];
    }

    /// <summary>Half of the IPv4 packets (by a flow label bit, so all fragments of a datagram agree) go to
    /// the SID that serves IPv4 only; everything else to the SID that serves every inner type.</summary>
    private static SfcHeaders ForInner(SfcHeaders h, InnerSpec inner)
    {
        if (h is not Srv6Headers { InnerEth: null } s || inner.Ip[0] >> 4 != 4 || (s.FlowLabel & 1) == 0)
            return h;
        var list = s.List.Select(a => a == Srv6Sids.Proxy ? Srv6Sids.V4Only : a).ToArray();
        return s with { Sid = Srv6Sids.V4Only, List = list };
    }

    /// <summary>An SRv6 frame to a proxy SID that xdp_rx must count under one named outcome (docs/srv6.md verdicts).</summary>
    private (byte[] Frame, Counter Counter, string What) Srv6Malformed(Packet eth, InnerSpec inner)
    {
        var n = rng.Next(1, 5);
        string[] Segs(int k) => [.. Enumerable.Range(0, k).Select(_ => Address(true))];
        Packet Outer(string sid = Srv6Sids.Proxy) => eth.IPv6(Address(true), sid, (uint)rng.Next(1 << 20), (byte)rng.Next(2, 256));
        switch (rng.Next(16))
        {
            case 0:
                return (Outer().RoutingHeader(253, 1, 24).Ip(inner.Ip).Build(), Counter.RxSrv6NotSrh, "srv6 routing type 253");
            case 1:
                return (Outer().Srh(1, Segs(n)).RoutingHeader(253, 0, 8).Ip(inner.Ip).Build(), Counter.RxSrv6NotSrh, "srv6 two routing headers");
            case 2:
                return (Outer().Srh(0, Segs(n)).Ip(inner.Ip).Build(), Counter.RxSrv6SlZero, "srv6 Segments Left 0");
            case 3:
                return (Outer().Srh((byte)(n + 1 + rng.Next(1, 4)), Segs(n)).Ip(inner.Ip).Build(), Counter.RxSrv6BadSrh,
                    "srv6 Segments Left > Last Entry + 1");
            case 4:
                return (Outer().Srh(1, Segs(n), lastEntry: (byte)(n + rng.Next(0, 4))).Ip(inner.Ip).Build(), Counter.RxSrv6BadSrh,
                    "srv6 Last Entry past the SRH");
            case 5:
                {
                    // the frame ends inside the SRH (its first 8 bytes there)
                    var f = Outer().Srh(1, Segs(n)).Ip(inner.Ip).Build();
                    var l2 = Wire.L2Length(f);
                    return (f[..(l2 + 48 + rng.Next(0, 16 * n))], Counter.RxSrv6BadLength, "srv6 SRH cut short");
                }
            case 6:
                {
                    var f = Outer().HopByHop(16).Srh(1, Segs(n)).Ip(inner.Ip).Build();
                    var l2 = Wire.L2Length(f);
                    return (f[..(l2 + 40 + rng.Next(2, 16))], Counter.RxSrv6BadLength, "srv6 hop-by-hop cut short");
                }
            case 7:
                // 40 + 8 + 256 + 96 = 400 bytes of headers, one TLV of PadN
                return (Outer().Srh(1, Segs(16), [1, 94, .. new byte[94]]).Ip(inner.Ip).Build(), Counter.RxSrv6TooLong,
                    "srv6 headers of 400 bytes");
            case 8:
                return (Outer().Srh(1, Segs(n), [6, (byte)rng.Next(7, 256), .. Bytes(6)]).Ip(inner.Ip).Build(), Counter.RxSrv6BadTlv,
                    "srv6 TLV past the SRH");
            case 9:
                return (Outer().Srh(1, Segs(n), new byte[40]).Ip(inner.Ip).Build(), Counter.RxSrv6BadTlv, "srv6 40 Pad1 TLVs");
            case 10:
                return (Outer(Srv6Sids.V4Only).Srh(1, Segs(n)).Ip(Udp(true).Ip).Build(), Counter.RxSrv6BadInner,
                    "srv6 inner IPv6 to the IPv4-only SID");
            case 11:
                return (rng.Next(3) switch
                    {
                        0 => Outer().Srh(1, Segs(n)).Tcp().Payload(Bytes(20)).Build(),
                        1 => Outer().Srh(1, Segs(n)).Fragment6(0, false, (uint)rng.Next()).Ip(inner.Ip).Build(),
                        _ => Outer().Srh(1, Segs(n)).Ah().Ip(inner.Ip).Build(),
                    }, Counter.RxSrv6BadInner, "srv6 TCP, fragment or AH after the SRH");
            case 12:
                return (rng.Next(2) == 0 ? Outer().Ip(inner.Ip).Build() : Outer().HopByHop().Udp(Port(), 9).Payload(Bytes(8)).Build(),
                    Counter.RxSrv6NoSrh, "srv6 to the SID without a routing header");
            case 13:
                // for another node: the judge expects rx_srv6_not_sid whenever SRv6 is accepted
                return (Outer(Address(true)).Srh(1, Segs(n)).Ip(inner.Ip).Build(), Counter.RxSrv6NotSid, "srv6 for another node");
            default:
                return (Outer().Srh(1, Segs(n)).Ip(Udp(false).Ip[..rng.Next(1, 20)]).Build(), Counter.RxTruncated,
                    "srv6 inner IPv4 header cut short");
        }
    }
}
