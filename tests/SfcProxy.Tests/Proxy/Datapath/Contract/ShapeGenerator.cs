using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>An inner IP packet and how it was made.</summary>
internal sealed record InnerSpec(byte[] Ip, string Shape);

/// <summary>
/// Random packet shapes real networks carry, built with <see cref="Packet"/>: IPv4 with and
/// without options, DF or not, id 0 or not; IPv6 behind hop-by-hop, routing and destination
/// options headers; TCP (SYN with options, timestamps, pure ACK), UDP (empty, 1-byte NAT-T
/// keepalive, QUIC-sized), ICMP/ICMPv6 echo with and without data, other protocols; fragments;
/// random SFC headers (SR-MPLS 1-16 entries, NSH MD type 1 and 2 up to 252 bytes, over IP or
/// Ethernet), VLAN/QinQ and Ethernet padding; frames that are malformed or not SFC on purpose.
/// Every draw comes from the one seeded generator, so a seed gives the same packets.
/// </summary>
internal sealed partial class ShapeGenerator(Random rng)
{
    /// <summary>Generated labels stay below this; static miss stacks use labels above it, so a
    /// static push can never pass for a packet's own headers.</summary>
    public const uint StaticLabelBase = 0xF0000;

    private int _nextId;

    public Random Rng => rng;

    // ------------------------------------------------------------------ inner packets

    /// <summary>Pass as the extension headers of an IPv6 packet that must have none.</summary>
    public static readonly Func<Packet, Packet> NoExtensions = p => p;

    public InnerSpec RandomInner()
    {
        var v6 = rng.Next(2) == 0;
        return rng.Next(100) switch
        {
            < 34 => Tcp(v6),
            < 68 => Udp(v6),
            < 84 => Echo(v6, PayloadLength(small: true)),
            < 92 => Short(v6),
            _ => Other(v6),
        };
    }

    public InnerSpec Tcp(bool v6, uint? seq = null, byte[]? payload = null, Func<Packet, Packet>? ext = null, ushort? id = null,
        string? src = null, string? dst = null, ushort? sport = null, ushort? dport = null)
    {
        var (flags, options, what) = rng.Next(10) switch
        {
            0 or 1 => ((byte)0x02, TcpOptions.LinuxSyn((ushort)rng.Next(1200, 9001)), "SYN+MSS"),
            2 or 3 => ((byte)0x18, [TcpOptions.Nop, TcpOptions.Nop, .. TcpOptions.Timestamps((uint)rng.Next(), (uint)rng.Next())], "PSH+TS"),
            4 => ((byte)0x10, Array.Empty<byte>(), "ACK"),
            _ => ((byte)0x18, Array.Empty<byte>(), "PSH"),
        };
        payload ??= flags == 0x02 ? [] : Bytes(PayloadLength(small: false));
        var (p, ip) = Ip(v6, 6, ext, id, src, dst);
        var sp = sport ?? Port();
        var dp = dport ?? (ushort)(rng.Next(2) == 0 ? 443 : Port());
        var s = seq ?? (uint)rng.NextInt64(1L << 32);
        p = p.Tcp(sp, dp, s, (uint)rng.NextInt64(1L << 32), flags, options).Payload(payload);
        return new InnerSpec(p.Build()[14..], $"{ip} / tcp {what} {sp}->{dp} seq {s} {payload.Length} B");
    }

    public InnerSpec Udp(bool v6, byte[]? payload = null, Func<Packet, Packet>? ext = null, bool linuxDf = false,
        string? src = null, string? dst = null, ushort? sport = null, ushort? dport = null)
    {
        payload ??= Bytes(PayloadLength(small: false));
        var (p, ip) = Ip(v6, 17, ext, linuxDf ? (ushort)0 : null, src, dst, df: linuxDf ? true : null);
        var sp = sport ?? Port();
        var dp = dport ?? (rng.Next(3) switch { 0 => (ushort)443, 1 => (ushort)53, _ => Port() });
        p = p.Udp(sp, dp).Payload(payload);
        return new InnerSpec(p.Build()[14..], $"{ip} / udp {sp}->{dp} {payload.Length} B");
    }

    public InnerSpec Echo(bool v6, int dataLength, ushort? echoId = null, ushort? echoSeq = null, string? src = null, string? dst = null,
        Func<Packet, Packet>? ext = null)
    {
        var (p, ip) = Ip(v6, v6 ? (byte)58 : (byte)1, ext, null, src, dst);
        var id = echoId ?? (ushort)rng.Next(65536);
        var sq = echoSeq ?? (ushort)rng.Next(65536);
        p = p.IcmpEcho(id, sq).Payload(Bytes(dataLength));
        return new InnerSpec(p.Build()[14..], $"{ip} / icmp{(v6 ? "v6" : "")} echo id {id} seq {sq} {dataLength} B");
    }

    /// <summary>Packets with fewer than 12 bytes after the IP header (or behind its extension headers).</summary>
    public InnerSpec Short(bool v6) => rng.Next(4) switch
    {
        0 => NatKeepalive(Address(false), Port()),
        1 => Echo(true, 0),
        2 => Udp(v6, [], linuxDf: !v6 && rng.Next(2) == 0),
        _ => Tcp(v6, payload: []),
    };

    /// <summary>A NAT-T keepalive (RFC 3948): one 0xFF byte from port 4500 to 4500, IPv4 DF id 0 as Linux sends it.</summary>
    public InnerSpec NatKeepalive(string src, ushort sport)
    {
        var (p, ip) = Ip(false, 17, null, 0, src, "198.18.255.1", df: true, options: false);
        p = p.Udp(sport, 4500).Payload([0xFF]);
        return new InnerSpec(p.Build()[14..], $"{ip} / udp NAT-T keepalive {sport}->4500 1 B");
    }

    private InnerSpec Other(bool v6)
    {
        byte proto = rng.Next(4) switch { 0 => 47, 1 => 50, 2 => 132, _ => 253 };
        var payload = Bytes(rng.Next(4) == 0 ? rng.Next(0, 12) : PayloadLength(small: false));
        var (p, ip) = Ip(v6, proto, null, null, null, null);
        return new InnerSpec(p.Payload(payload).Build()[14..], $"{ip} / protocol {proto} {payload.Length} B");
    }

    /// <summary>An IP header builder (random addresses, TTL, TOS, IPv4 id/DF/options, IPv6 flow label
    /// and extension headers unless <paramref name="ext"/> gives them).</summary>
    private (Packet P, string Shape) Ip(bool v6, byte protocol, Func<Packet, Packet>? ext, ushort? id, string? src, string? dst, bool? df = null,
        bool options = true)
    {
        var ttl = InnerTtl();
        var tos = (byte)(rng.Next(3) == 0 ? rng.Next(256) : 0);
        if (!v6)
        {
            var dontFragment = df ?? rng.Next(5) != 0;
            var ident = id ?? (dontFragment && rng.Next(3) == 0 ? (ushort)0 : (ushort)rng.Next(1, 65536));
            byte[]? opts = options && rng.Next(10) == 0 ? IPv4Option() : null;
            var p = Packet.Eth().IPv4(src ?? Address(false), dst ?? Address(false), ident, ttl,
                protocol is 6 or 17 or 1 ? null : protocol, dontFragment ? (ushort)0x4000 : (ushort)0, tos, options: opts);
            return (p, $"ipv4{(dontFragment ? " DF" : "")} id {ident}{(opts is null ? "" : $" +{opts.Length} B options")} ttl {ttl}");
        }
        var exts = "";
        var chain = ext;
        if (chain is not null)
            exts = ext == NoExtensions ? "" : " +ext";
        else if (rng.Next(3) == 0)
            (chain, exts) = Extensions();
        var q = Packet.Eth().IPv6(src ?? Address(true), dst ?? Address(true), (uint)rng.Next(1 << 20), ttl,
            chain is not null || protocol is 6 or 17 or 58 ? null : protocol, tos);
        if (chain is not null)
            q = chain(q);
        return (q, $"ipv6{exts} hop {ttl}");
    }

    /// <summary>1-5 extension headers in RFC 8200 order: hop-by-hop, destination options, routing,
    /// destination options, sometimes an atomic fragment header (drawn now, appended by the result).</summary>
    public (Func<Packet, Packet> Append, string Shape) Extensions()
    {
        var names = new List<string>();
        var steps = new List<Func<Packet, Packet>>();
        if (rng.Next(2) == 0)
        {
            var (len, ra) = (8 * rng.Next(1, 4), rng.Next(3) == 0);
            steps.Add(p => p.HopByHop(len, routerAlert: ra));
            names.Add("hbh");
        }
        if (rng.Next(4) == 0)
        {
            var len = 8 * rng.Next(1, 3);
            steps.Add(p => p.DestinationOptions(len));
            names.Add("dst");
        }
        if (rng.Next(3) == 0)
        {
            var n = rng.Next(1, 4);
            var left = (byte)rng.Next(0, n + 1);
            string[] segments = [.. Enumerable.Range(0, n).Select(_ => Address(true))];
            steps.Add(p => p.Routing(4, left, segments));
            names.Add($"srh{n}");
        }
        if (rng.Next(4) == 0)
        {
            var len = 8 * rng.Next(1, 3);
            steps.Add(p => p.DestinationOptions(len));
            names.Add("dst");
        }
        if (rng.Next(12) == 0)
        {
            var id = (uint)rng.Next();
            steps.Add(p => p.Fragment6(0, false, id));
            names.Add("atomic-frag");
        }
        if (steps.Count == 0)
        {
            steps.Add(p => p.HopByHop());
            names.Add("hbh");
        }
        return (p => steps.Aggregate(p, (q, step) => step(q)), " " + string.Join("+", names));
    }

    private byte[] IPv4Option() => rng.Next(3) switch
    {
        0 => IPv4Options.RouterAlert,
        1 => IPv4Options.Timestamp(rng.Next(1, 9)),
        _ => [IPv4Options.Nop, .. IPv4Options.RouterAlert, IPv4Options.Nop, IPv4Options.Nop, IPv4Options.Nop],
    };

    private byte InnerTtl() => rng.Next(20) switch
    {
        0 => 1,
        1 => 255,
        < 8 => (byte)rng.Next(2, 256),
        _ => 64,
    };

    /// <summary>Payload lengths: many small ones (the cases a short key loses), the rest up to ~1400.</summary>
    public int PayloadLength(bool small) => rng.Next(10) switch
    {
        < 3 => rng.Next(0, 16),
        < 7 => small ? rng.Next(16, 120) : rng.Next(16, 600),
        _ => small ? rng.Next(120, 1000) : rng.Next(600, 1400),
    };

    // ------------------------------------------------------------------ SFC headers and frames

    /// <summary>SR-MPLS, NSH or SRv6 headers (45/30/25 of 100 unless <paramref name="mpls"/> says).</summary>
    public SfcHeaders RandomHeaders(bool? mpls = null)
    {
        var kind = mpls is { } m ? (m ? 0 : 10) : rng.Next(20);
        if (kind >= 15)
            return RandomSrv6();
        if (kind < 9)
        {
            var depth = rng.Next(4) switch { 0 => 1, 1 => rng.Next(2, 4), 2 => rng.Next(4, 11), _ => rng.Next(11, SfcLimits.MaxLabels + 1) };
            var stack = new LabelStackEntry[depth];
            for (var i = 0; i < depth; i++)
                stack[i] = new LabelStackEntry((uint)rng.Next(16, (int)StaticLabelBase), (byte)rng.Next(8), i == depth - 1,
                    i == 0 ? EdgeTtl(255) : (byte)rng.Next(256));
            return new MplsHeaders(stack);
        }

        var md = rng.Next(2) == 0 ? (byte)1 : (byte)2;
        var tlvs = new List<NshTlv>();
        if (md == 2)
        {
            // 0..many TLVs; sometimes filled up to the 252-byte maximum header
            var room = 252 - 8;
            var target = rng.Next(4) == 0 ? room : rng.Next(0, 60);
            while (true)
            {
                var len = rng.Next(0, 29);
                var size = 4 + (len + 3) / 4 * 4;
                if (size > target || size > room)
                    break;
                tlvs.Add(new NshTlv((ushort)rng.Next(65536), (byte)rng.Next(128), Bytes(len)));
                target -= size;
                room -= size;
            }
        }
        InnerEthernet? eth = null;
        if (rng.Next(5) == 0)
            eth = new InnerEthernet(Mac(), Mac(), Tags(rng.Next(3) == 0 ? rng.Next(1, 3) : 0));
        return new NshHeaders((uint)rng.Next(1 << 24), EdgeTtl(255), EdgeTtl(63), md, md == 1 ? Bytes(16) : null, [.. tlvs],
            rng.Next(10) == 0, eth);
    }

    /// <summary>TTL or SI values with their edges drawn often: 0, 1, 2 (the rules of RFC 3032 and 8300).</summary>
    private byte EdgeTtl(int max) => rng.Next(100) switch
    {
        < 4 => 0,
        < 10 => 1,
        < 15 => 2,
        < 25 => (byte)rng.Next(3, 11),
        _ => (byte)rng.Next(11, max + 1),
    };

    public (ushort Tpid, ushort Vid)[] OuterTags() => rng.Next(10) switch
    {
        < 6 => [],
        < 8 => [(Wire.Vlan, (ushort)rng.Next(1, 4095))],
        _ => [(rng.Next(2) == 0 ? Wire.QinQ : Wire.Vlan, (ushort)rng.Next(1, 4095)), (Wire.Vlan, (ushort)rng.Next(1, 4095))],
    };

    private (ushort Tpid, ushort Vid)[] Tags(int n) =>
        [.. Enumerable.Range(0, n).Select(i => (i == 0 && n == 2 ? Wire.QinQ : Wire.Vlan, (ushort)rng.Next(1, 4095)))];

    /// <summary>An SFC frame: Ethernet, tags, the headers, the inner packet; short frames padded half of the time.</summary>
    public ContractPacket Sfc(InnerSpec inner, SfcHeaders headers, (ushort Tpid, ushort Vid)[]? tags = null, bool? pad = null,
        (byte[] Dst, byte[] Src)? macs = null)
    {
        tags ??= OuterTags();
        headers = ForInner(headers, inner);
        var (dst, src) = macs ?? (Mac(), Mac());
        var p = Packet.Eth(dst, src);
        foreach (var (tpid, vid) in tags)
            p = p.Vlan(vid, tpid, (byte)rng.Next(8));
        p = headers.Push(p).Ip(inner.Ip);
        var padded = pad ?? rng.Next(2) == 0;
        var frame = padded ? p.BuildPadded() : p.Build();
        var l2 = 14 + 4 * tags.Length;
        var hdrLen = headers switch
        {
            MplsHeaders m => 4 * m.Stack.Length,
            Srv6Headers s => s.Length,
            _ => (frame[l2 + 1] & 0x3F) * 4,
        };
        var shape = inner.Shape + (padded && frame.Length == 60 && p.Build().Length < 60 ? ", padded" : "");
        return new ContractPacket
        {
            Id = _nextId++, Shape = shape, Frame = frame, Headers = headers, Ip = inner.Ip, OuterL2Length = l2,
            Received = frame[l2..(l2 + hdrLen)],
        };
    }

    /// <summary>The same packet again (a retransmission, a duplicated datagram): same frame, new id.</summary>
    public ContractPacket Again(ContractPacket x) => new()
    {
        Id = _nextId++, Shape = x.Shape, Frame = x.Frame, Headers = x.Headers, Ip = x.Ip, OuterL2Length = x.OuterL2Length,
        Received = x.Received,
    };

    // ------------------------------------------------------------------ malformed and not SFC

    /// <summary>A frame xdp_rx must count under exactly one named outcome (README table).</summary>
    public ContractPacket Malformed()
    {
        var tags = OuterTags();
        Packet Eth()
        {
            var p = Packet.Eth(Mac(), Mac());
            foreach (var (tpid, vid) in tags)
                p = p.Vlan(vid, tpid);
            return p;
        }
        var inner = Udp(rng.Next(2) == 0, Bytes(rng.Next(0, 64)));
        var (frame, counter, what) = rng.Next(20) switch
        {
            >= 13 => Srv6Malformed(Eth(), inner),
            0 => (Labels(Eth(), rng.Next(SfcLimits.MaxLabels + 1, 21), true).Ip(inner.Ip).Build(), Counter.RxTooManyLabels, "17-20 labels"),
            1 => (Labels(Eth(), rng.Next(1, 6), false).Build(), Counter.RxTruncated, "no bottom of stack before the end"),
            2 => (Labels(Eth(), rng.Next(1, 4), true).Payload([(byte)rng.Next(0x40), .. Bytes(rng.Next(20, 80))]).Build(), Counter.RxNotIp,
                "not IP after the stack (pseudowire control word)"),
            3 => (Labels(Eth(), rng.Next(1, 4), true).Payload(Udp(false).Ip[..rng.Next(1, 20)]).Build(), Counter.RxTruncated,
                "IPv4 header cut short"),
            4 => (Labels(Eth(), rng.Next(1, 4), true).Payload(Udp(true).Ip[..rng.Next(1, 40)]).Build(), Counter.RxTruncated,
                "IPv6 header cut short"),
            5 => (Eth().Nsh(version: (byte)rng.Next(1, 4)).Ip(inner.Ip).Build(), Counter.RxNshBadVersion, "NSH version 1-3"),
            6 => (Eth().Nsh(mdType: new byte[] { 0, 3, 0xF }[rng.Next(3)]).Ip(inner.Ip).Build(), Counter.RxNshBadMdType, "NSH MD type 0/3/15"),
            7 => (Eth().Nsh(mdType: 1, length: (byte)rng.Next(2, 6)).Ip(inner.Ip).Build(), Counter.RxNshBadLength, "NSH MD1 Length not 6"),
            8 => (Eth().Nsh(nextProtocol: new byte[] { 0, 4, 5, 0x41 }[rng.Next(4)]).Ip(inner.Ip).Build(), Counter.RxNshBadNextProto,
                "NSH next protocol not IPv4/IPv6/Ethernet"),
            9 => (Eth().Nsh(mdType: 2, tlvs: [new NshTlv(1, 1, Bytes(8))], length: 4).Ip(inner.Ip).Build(), Counter.RxNshBadTlv,
                "NSH MD2 TLV past Length"),
            10 => (Eth().Nsh(nextProtocol: 1).Ip(Udp(true).Ip).Build(), Counter.RxNotIp, "NSH says IPv4, IPv6 follows"),
            11 => (Eth().Ip(inner.Ip).Build(), Counter.RxNotSfc, "plain IP"),
            _ => (Packet.Eth(Mac(), Mac(), etherType: 0x0806).Payload(Bytes(28)).Build(), Counter.RxNotSfc, "ARP"),
        };
        return new ContractPacket { Id = _nextId++, Shape = what, Frame = frame, Ip = [], OuterL2Length = 14 + 4 * tags.Length, RxExpected = counter };
    }

    private Packet Labels(Packet p, int n, bool bos)
    {
        for (var i = 0; i < n; i++)
            p = p.Mpls((uint)rng.Next(16, (int)StaticLabelBase), (byte)rng.Next(2, 256), 0, bos && i == n - 1);
        return p;
    }

    // ------------------------------------------------------------------ helpers

    public byte[] Bytes(int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    public byte[] Mac()
    {
        var m = Bytes(6);
        m[0] = (byte)((m[0] & 0xFC) | 0x02); // unicast, locally administered
        return m;
    }

    public ushort Port() => (ushort)rng.Next(1024, 65536);

    /// <summary>An address in the benchmarking ranges (198.18.0.0/15, 2001:2::/48).</summary>
    public string Address(bool v6) => v6
        ? $"2001:2:0:{rng.Next(65536):x}::{rng.Next(1, 65536):x}"
        : $"198.{18 + rng.Next(2)}.{rng.Next(256)}.{rng.Next(1, 255)}";

    /// <summary>
    /// The payload with two different 16-bit words at even offsets from byte 4 on swapped: the same
    /// length, the same first 4 bytes and the same transport checksum (a one's complement sum does
    /// not see the order of its words), but a different packet. Null when the payload is too
    /// short or uniform.
    /// </summary>
    public byte[]? SameChecksumVariant(byte[] payload)
    {
        var words = (payload.Length - 4) / 2;
        if (words < 2)
            return null;
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var i = 4 + 2 * rng.Next(words);
            var j = 4 + 2 * rng.Next(words);
            if (i == j || BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i)) == BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(j)))
                continue;
            var v = (byte[])payload.Clone();
            (v[i], v[i + 1], v[j], v[j + 1]) = (v[j], v[j + 1], v[i], v[i + 1]);
            return v;
        }
        return null;
    }
}
