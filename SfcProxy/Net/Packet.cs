using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace SfcProxy.Net;

/// <summary>
/// Fluent builder for test and benchmark frames: <c>Packet.Eth().Vlan(10).Mpls(16001, ttl: 64).IPv4(...).Udp(...)</c>.
/// Lengths and checksums are computed at <see cref="Build"/>, so fixtures state intent, never hex.
/// Each call returns a new builder, so a common prefix can be shared between fixtures.
/// </summary>
public sealed record Packet
{
    public static readonly byte[] DefaultDst = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
    public static readonly byte[] DefaultSrc = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

    private readonly List<Layer> _layers = [];

    private Packet() { }
    private Packet(IEnumerable<Layer> layers) => _layers = [.. layers];

    public static Packet Eth(byte[]? dst = null, byte[]? src = null, ushort? etherType = null) =>
        new Packet().With(new EthLayer(dst ?? DefaultDst, src ?? DefaultSrc, etherType));

    /// <summary>An 802.1Q (or 802.1ad with <paramref name="tpid"/> 0x88A8) tag.</summary>
    public Packet Vlan(ushort vid, ushort tpid = 0x8100, byte pcp = 0) => With(new VlanLayer(tpid, vid, pcp));

    /// <summary>One label stack entry; bottom of stack is set automatically on the last one unless given.</summary>
    public Packet Mpls(uint label, byte ttl = 64, byte tc = 0, bool? bos = null) => With(new MplsLayer(label, tc, ttl, bos));

    /// <summary>A whole stack of labels 16001.. (or the given ones), TTL 64 unless given.</summary>
    public Packet Labels(int count, uint first = 16001, byte ttl = 64)
    {
        var p = this;
        for (var i = 0; i < count; i++)
            p = p.Mpls(first + (uint)i, ttl);
        return p;
    }

    /// <summary>An NSH header (RFC 8300). MD type 1 carries <paramref name="context"/> (16 bytes, zero if
    /// absent); MD type 2 carries <paramref name="tlvs"/>. Length and next protocol are derived unless
    /// given, so malformed headers can be built on purpose.</summary>
    public Packet Nsh(uint spi = 100, byte si = 255, byte ttl = 63, byte mdType = 1, byte[]? context = null,
        NshTlv[]? tlvs = null, bool oam = false, byte version = 0, byte? length = null, byte? nextProtocol = null) =>
        With(new NshLayer(spi, si, ttl, mdType, context, tlvs ?? [], oam, version, length, nextProtocol));

    /// <summary>An Ethernet header inside an encapsulation (NSH next protocol Ethernet).</summary>
    public Packet InnerEth(byte[]? dst = null, byte[]? src = null) => With(new EthLayer(dst ?? DefaultDst, src ?? DefaultSrc, null));

    /// <param name="fragOff">Flags and fragment offset as on the wire (0x4000: DF).</param>
    /// <param name="ihlWords">Header length in words; the words past 5 are zero (end of options)
    /// unless <paramref name="options"/> are given.</param>
    /// <param name="options">IPv4 options as on the wire (e.g. <see cref="IPv4Options"/>), padded with
    /// zeros to a multiple of 4 bytes, at most 40; the header length follows them.</param>
    public Packet IPv4(string src = "198.18.1.1", string dst = "198.18.2.1", ushort id = 1, byte ttl = 64,
        byte? protocol = null, ushort fragOff = 0x4000, byte tos = 0, byte ihlWords = 5, byte[]? options = null)
    {
        if (options is { Length: > 40 })
            throw new ArgumentException($"IPv4 options of {options.Length} bytes: at most 40");
        var words = options is null ? ihlWords : (byte)(5 + (options.Length + 3) / 4);
        return With(new IPv4Layer(IPAddress.Parse(src), IPAddress.Parse(dst), id, ttl, protocol, fragOff, tos, words, options ?? []));
    }

    public Packet IPv6(string src = "2001:2:1::1", string dst = "2001:2:2::1", uint flowLabel = 0, byte hopLimit = 64,
        byte? nextHeader = null, byte trafficClass = 0) =>
        With(new IPv6Layer(IPAddress.Parse(src), IPAddress.Parse(dst), flowLabel, hopLimit, nextHeader, trafficClass));

    /// <summary>An IPv6 hop-by-hop options header (RFC 8200 4.3) of <paramref name="length"/> bytes
    /// (a multiple of 8), optionally with a router alert option (RFC 2711, as MLD sends), padded with PadN.</summary>
    public Packet HopByHop(int length = 8, bool routerAlert = false) =>
        With(new IPv6OptionsLayer(0, length, routerAlert));

    /// <summary>An IPv6 destination options header (RFC 8200 4.6) of <paramref name="length"/> bytes, padded with PadN.</summary>
    public Packet DestinationOptions(int length = 8) => With(new IPv6OptionsLayer(60, length, false));

    /// <summary>An IPv6 routing header (RFC 8200 4.4): type 4 is a segment routing header (RFC 8754)
    /// with <paramref name="segments"/> in wire order; other types carry the addresses the same way.</summary>
    public Packet Routing(byte routingType = 4, byte segmentsLeft = 1, params string[] segments) =>
        With(new IPv6RoutingLayer(routingType, segmentsLeft, [.. segments.Select(IPAddress.Parse)]));

    /// <summary>A segment routing header (RFC 8754 2): <paramref name="segments"/> in wire order (Segment List[0],
    /// the last segment, first), then <paramref name="tlvs"/> as on the wire (a multiple of 8 bytes with the segments'
    /// 8 + 16n). Last Entry and Hdr Ext Len follow from them unless given (a malformed header).</summary>
    public Packet Srh(byte segmentsLeft, string[] segments, byte[]? tlvs = null, byte? lastEntry = null,
        byte? hdrExtLen = null, byte flags = 0, ushort tag = 0) =>
        With(new SrhLayer(segmentsLeft, [.. segments.Select(IPAddress.Parse)], tlvs ?? [], lastEntry, hdrExtLen, flags, tag));

    /// <summary>An IPv6 fragment header (RFC 8200 4.5): offset in 8-byte units, M flag, identification.</summary>
    public Packet Fragment6(ushort offsetUnits, bool more, uint identification) =>
        With(new IPv6FragmentLayer(offsetUnits, more, identification));

    /// <summary>An IP packet built already (one fragment of a datagram, a packet a VNF rewrote), carried
    /// as is; the ethertype or NSH next protocol in front of it follows its version nibble.</summary>
    public Packet Ip(ReadOnlySpan<byte> packet) => With(new RawIpLayer(packet.ToArray()));

    /// <param name="options">TCP options as on the wire (e.g. <see cref="TcpOptions"/>); padded with
    /// zeros (end of options) to a multiple of 4 bytes, at most 40. The data offset follows.</param>
    public Packet Tcp(ushort sport = 40000, ushort dport = 80, uint seq = 1, uint ack = 0, byte flags = 0x10, byte[]? options = null) =>
        With(new TcpLayer(sport, dport, seq, ack, flags, options ?? []));

    public Packet Udp(ushort sport = 40000, ushort dport = 9) => With(new UdpLayer(sport, dport));

    /// <summary>ICMP echo request (ICMPv6 echo request when it follows IPv6).</summary>
    public Packet IcmpEcho(ushort id = 1, ushort seq = 1) => With(new IcmpLayer(null, 0, id, seq));

    /// <summary>Any ICMP (or ICMPv6, after IPv6) message: type, code and the second word as identifier and
    /// sequence (an error's unused word or next-hop MTU the same way); the quoted packet of an error
    /// follows as <see cref="Payload(ReadOnlySpan{byte})"/>.</summary>
    public Packet Icmp(byte type, byte code = 0, ushort id = 0, ushort seq = 0) => With(new IcmpLayer(type, code, id, seq));

    /// <summary>IPv6 routing header of <paramref name="length"/> bytes (type <paramref name="routingType"/>,
    /// 253 = experimental, segments left as given), zeros after: a routing header that is no SRH.</summary>
    public Packet RoutingHeader(byte routingType = 253, byte segmentsLeft = 0, int length = 8) =>
        With(new Ipv6ExtLayer(43, length, routingType, segmentsLeft));

    /// <summary>IPv6 fragment header: offset in 8-byte units, M flag, identification. Offset 0 without
    /// M is an atomic fragment (RFC 6946).</summary>
    public Packet Fragment(ushort offset = 0, bool more = false, uint id = 1) =>
        With(new Ipv6ExtLayer(44, 8, 0, 0, (ushort)(offset << 3 | (more ? 1 : 0)), id));

    /// <summary>IPv6 authentication header (RFC 4302) of <paramref name="length"/> bytes (12 + ICV, a multiple of 8).</summary>
    public Packet Ah(int length = 16) => With(new Ipv6ExtLayer(51, length, 0, 0));

    public Packet Payload(ReadOnlySpan<byte> bytes) => With(new RawLayer(bytes.ToArray()));

    public Packet Payload(int length, byte seed = 0)
    {
        var b = new byte[length];
        for (var i = 0; i < length; i++)
            b[i] = (byte)(seed + i);
        return With(new RawLayer(b));
    }

    private Packet With(Layer l) => new(_layers.Append(l));

    /// <summary><see cref="Build"/>, then zero padding up to <paramref name="minFrame"/> bytes, as
    /// Ethernet pads a short frame (60 bytes without the FCS): the IP length no longer ends the frame.</summary>
    public byte[] BuildPadded(int minFrame = 60)
    {
        var f = Build();
        return f.Length >= minFrame ? f : [.. f, .. new byte[minFrame - f.Length]];
    }

    /// <summary>Serializes the frame with every length, ethertype and checksum filled in.</summary>
    public byte[] Build()
    {
        // Build from the inside out: each layer wraps the bytes of everything after it.
        byte[] inner = [];
        for (var i = _layers.Count - 1; i >= 0; i--)
        {
            var next = i + 1 < _layers.Count ? _layers[i + 1] : null;
            var ip = FindIpBefore(i);
            inner = _layers[i].Write(inner, next, ip, IsLastMpls(i));
        }
        return inner;
    }

    private IpLayer? FindIpBefore(int index)
    {
        for (var i = index - 1; i >= 0; i--)
            if (_layers[i] is IpLayer ip)
                return ip;
        return null;
    }

    private bool IsLastMpls(int index) =>
        _layers[index] is MplsLayer && (index + 1 == _layers.Count || _layers[index + 1] is not MplsLayer);

    private static ushort EtherTypeOf(Layer? next) => next switch
    {
        VlanLayer v => v.Tpid,
        MplsLayer => 0x8847,
        NshLayer => 0x894F,
        IPv4Layer => 0x0800,
        IPv6Layer => 0x86DD,
        RawIpLayer r => r.IsV6 ? (ushort)0x86DD : (ushort)0x0800,
        _ => 0x88B5, // IEEE local experimental: "something that is not IP"
    };

    private static byte ProtocolOf(Layer? next, bool v6) => next switch
    {
        TcpLayer => 6,
        UdpLayer => 17,
        IcmpLayer => v6 ? (byte)58 : (byte)1,
        Ipv6ExtLayer x => x.Type,
        IPv4Layer => 4,
        IPv6Layer => 41,
        IPv6OptionsLayer o => o.Type,
        IPv6RoutingLayer => 43,
        SrhLayer => 43,
        EthLayer => 143, // Ethernet inside IPv6 (RFC 8986 10.1)
        RawIpLayer r => r.IsV6 ? (byte)41 : (byte)4,
        IPv6FragmentLayer => 44,
        _ => 253, // RFC 3692 experimental
    };

    private abstract record Layer
    {
        public abstract byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls);
    }

    private abstract record IpLayer : Layer
    {
        /// <summary>Pseudo-header sum for the transport checksum.</summary>
        public abstract uint PseudoSum(byte protocol, int length);
        public abstract bool IsV6 { get; }
    }

    private sealed record EthLayer(byte[] Dst, byte[] Src, ushort? EtherType) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var b = new byte[14 + inner.Length];
            Dst.CopyTo(b, 0);
            Src.CopyTo(b, 6);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(12), EtherType ?? EtherTypeOf(next));
            inner.CopyTo(b, 14);
            return b;
        }
    }

    private sealed record VlanLayer(ushort Tpid, ushort Vid, byte Pcp) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            // The tag's TPID is written by the layer before; this writes TCI + the next ethertype.
            var b = new byte[4 + inner.Length];
            BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)((Pcp << 13) | (Vid & 0x0FFF)));
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), EtherTypeOf(next));
            inner.CopyTo(b, 4);
            return b;
        }
    }

    private sealed record MplsLayer(uint Label, byte Tc, byte Ttl, bool? Bos) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var b = new byte[4 + inner.Length];
            var bos = Bos ?? lastMpls;
            BinaryPrimitives.WriteUInt32BigEndian(b, MplsEntry(Label, Tc, bos, Ttl));
            inner.CopyTo(b, 4);
            return b;
        }
    }

    private sealed record NshLayer(uint Spi, byte Si, byte Ttl, byte MdType, byte[]? Context, NshTlv[] Tlvs, bool Oam,
        byte Version, byte? Length, byte? NextProtocol) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            byte[] metadata = MdType == 1 ? Context ?? new byte[16] : [.. Tlvs.SelectMany(t => t.Encode())];
            var header = new byte[8 + metadata.Length];
            var words = Length ?? (byte)(header.Length / 4);
            header[0] = (byte)((Version << 6) | (Oam ? 0x20 : 0) | ((Ttl >> 2) & 0x0F));
            header[1] = (byte)(((Ttl & 3) << 6) | (words & 0x3F));
            header[2] = (byte)(MdType & 0x0F);
            header[3] = NextProtocol ?? next switch
            {
                IPv4Layer => 1, IPv6Layer => 2, EthLayer => 3, RawIpLayer r => r.IsV6 ? (byte)2 : (byte)1, _ => 0xFE,
            };
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (Spi << 8) | Si);
            metadata.CopyTo(header, 8);
            return [.. header, .. inner];
        }
    }

    private sealed record IPv4Layer(IPAddress Src, IPAddress Dst, ushort Id, byte Ttl, byte? Protocol, ushort FragOff,
        byte Tos, byte IhlWords, byte[] Options) : IpLayer
    {
        public override bool IsV6 => false;

        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var hl = IhlWords * 4;
            var b = new byte[hl + inner.Length];
            b[0] = (byte)(0x40 | IhlWords);
            b[1] = Tos;
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)b.Length);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), Id);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), FragOff);
            b[8] = Ttl;
            b[9] = Protocol ?? ProtocolOf(next, false);
            Src.GetAddressBytes().CopyTo(b, 12);
            Dst.GetAddressBytes().CopyTo(b, 16);
            Options.AsSpan(0, Math.Min(Options.Length, Math.Max(0, hl - 20))).CopyTo(b.AsSpan(20));
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), Checksum.Fold(Checksum.Sum(b.AsSpan(0, hl))));
            inner.CopyTo(b, hl);
            return b;
        }

        public override uint PseudoSum(byte protocol, int length) =>
            Checksum.Sum(Src.GetAddressBytes()) + Checksum.Sum(Dst.GetAddressBytes()) + protocol + (uint)length;
    }

    private sealed record IPv6Layer(IPAddress Src, IPAddress Dst, uint FlowLabel, byte HopLimit, byte? NextHeader,
        byte TrafficClass) : IpLayer
    {
        public override bool IsV6 => true;

        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var b = new byte[40 + inner.Length];
            BinaryPrimitives.WriteUInt32BigEndian(b, (6u << 28) | ((uint)TrafficClass << 20) | (FlowLabel & 0xFFFFF));
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)inner.Length);
            b[6] = NextHeader ?? ProtocolOf(next, true);
            b[7] = HopLimit;
            Src.GetAddressBytes().CopyTo(b, 8);
            Dst.GetAddressBytes().CopyTo(b, 24);
            inner.CopyTo(b, 40);
            return b;
        }

        public override uint PseudoSum(byte protocol, int length) =>
            Checksum.Sum(Src.GetAddressBytes()) + Checksum.Sum(Dst.GetAddressBytes()) + protocol + (uint)length;
    }

    /// <summary>Hop-by-hop (0) or destination (60) options: next header, length, options padded with PadN.</summary>
    private sealed record IPv6OptionsLayer(byte Type, int Length, bool RouterAlert) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            if (Length < 8 || Length % 8 != 0 || Length > 2048)
                throw new ArgumentException($"IPv6 options header of {Length} bytes: a multiple of 8, 8..2048");
            var b = new byte[Length + inner.Length];
            b[0] = ProtocolOf(next, true);
            b[1] = (byte)(Length / 8 - 1);
            var at = 2;
            if (RouterAlert)
            {
                b[2] = 5; // router alert, value 0 (MLD)
                b[3] = 2;
                at = 6;
            }
            var pad = Length - at;
            if (pad == 1)
                b[at] = 0; // Pad1
            else if (pad >= 2)
            {
                // Up to 7 bytes: PadN. More: RFC 4727's experimental option 0x1E (skipped by nodes
                // that do not know it), as Linux drops more than 7 bytes of padding (RFC 4942 2.1.9.5),
                // so the packet also crosses a real kernel.
                b[at] = pad - 2 <= 5 ? (byte)1 : (byte)0x1E;
                b[at + 1] = (byte)(pad - 2);
            }
            inner.CopyTo(b, Length);
            return b;
        }
    }

    private sealed record IPv6RoutingLayer(byte RoutingType, byte SegmentsLeft, IPAddress[] Segments) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var len = 8 + 16 * Segments.Length;
            var b = new byte[len + inner.Length];
            b[0] = ProtocolOf(next, true);
            b[1] = (byte)(2 * Segments.Length);
            b[2] = RoutingType;
            b[3] = SegmentsLeft;
            if (RoutingType == 4)
                b[4] = (byte)Math.Max(0, Segments.Length - 1); // last entry
            for (var i = 0; i < Segments.Length; i++)
                Segments[i].GetAddressBytes().CopyTo(b, 8 + 16 * i);
            inner.CopyTo(b, len);
            return b;
        }
    }

    private sealed record SrhLayer(byte SegmentsLeft, IPAddress[] Segments, byte[] Tlvs, byte? LastEntry, byte? HdrExtLen,
        byte Flags, ushort Tag) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var len = 8 + 16 * Segments.Length + Tlvs.Length;
            var b = new byte[len + inner.Length];
            b[0] = ProtocolOf(next, true);
            b[1] = HdrExtLen ?? (byte)(len / 8 - 1);
            b[2] = 4;
            b[3] = SegmentsLeft;
            b[4] = LastEntry ?? (byte)(Segments.Length - 1);
            b[5] = Flags;
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), Tag);
            for (var i = 0; i < Segments.Length; i++)
                Segments[i].GetAddressBytes().CopyTo(b, 8 + 16 * i);
            Tlvs.CopyTo(b, 8 + 16 * Segments.Length);
            inner.CopyTo(b, len);
            return b;
        }
    }

    private sealed record IPv6FragmentLayer(ushort OffsetUnits, bool More, uint Identification) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var b = new byte[8 + inner.Length];
            b[0] = ProtocolOf(next, true);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)((OffsetUnits << 3) | (More ? 1 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), Identification);
            inner.CopyTo(b, 8);
            return b;
        }
    }

    private sealed record RawIpLayer(byte[] Bytes) : Layer
    {
        public bool IsV6 => Bytes.Length > 0 && Bytes[0] >> 4 == 6;

        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls) => [.. Bytes, .. inner];
    }

    private sealed record TcpLayer(ushort Sport, ushort Dport, uint Seq, uint Ack, byte Flags, byte[] Options) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var optLen = (Options.Length + 3) / 4 * 4;
            if (optLen > 40)
                throw new ArgumentException($"TCP options of {Options.Length} bytes: at most 40");
            var hl = 20 + optLen;
            var b = new byte[hl + inner.Length];
            BinaryPrimitives.WriteUInt16BigEndian(b, Sport);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), Dport);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), Seq);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), Ack);
            b[12] = (byte)(hl / 4 << 4);
            b[13] = Flags;
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(14), 64240);
            Options.CopyTo(b, 20);
            inner.CopyTo(b, hl);
            WriteL4Checksum(b, 16, ip, 6);
            return b;
        }
    }

    private sealed record UdpLayer(ushort Sport, ushort Dport) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var b = new byte[8 + inner.Length];
            BinaryPrimitives.WriteUInt16BigEndian(b, Sport);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), Dport);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), (ushort)b.Length);
            inner.CopyTo(b, 8);
            WriteL4Checksum(b, 6, ip, 17);
            return b;
        }
    }

    private sealed record Ipv6ExtLayer(byte Type, int Length, byte RoutingType, byte SegmentsLeft,
        ushort FragmentWord = 0, uint FragmentId = 0) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            if (Length < 8 || Length % 8 != 0 || (Type == 44 && Length != 8))
                throw new ArgumentException($"IPv6 extension header {Type} of {Length} bytes: a multiple of 8 (fragment: 8)");
            var b = new byte[Length + inner.Length];
            b[0] = ProtocolOf(next, true);
            switch (Type)
            {
                case 44: // fragment: reserved, offset + flags, identification
                    BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), FragmentWord);
                    BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), FragmentId);
                    break;
                case 51: // AH: payload length in 4-byte units minus 2, then SPI, sequence, ICV (zeros)
                    b[1] = (byte)(Length / 4 - 2);
                    BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 0x100);
                    break;
                case 43: // routing: length in 8-byte units minus 1, type, segments left
                    b[1] = (byte)(Length / 8 - 1);
                    b[2] = RoutingType;
                    b[3] = SegmentsLeft;
                    break;
                default: // hop-by-hop, destination options: one option fills the header
                    b[1] = (byte)(Length / 8 - 1);
                    // 8 bytes: PadN. Longer: RFC 4727's experimental option 0x1E (skipped by nodes that do
                    // not know it), as Linux drops more than 7 bytes of padding (RFC 4942 2.1.9.5).
                    b[2] = Length == 8 ? (byte)1 : (byte)0x1E;
                    b[3] = (byte)(Length - 4);
                    break;
            }
            inner.CopyTo(b, Length);
            return b;
        }
    }

    private sealed record IcmpLayer(byte? Type, byte Code, ushort Id, ushort Seq) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls)
        {
            var v6 = ip?.IsV6 ?? false;
            var b = new byte[8 + inner.Length];
            b[0] = Type ?? (v6 ? (byte)128 : (byte)8);
            b[1] = Code;
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), Id);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), Seq);
            inner.CopyTo(b, 8);
            // ICMPv6 sums the pseudo-header, ICMPv4 only the message.
            var sum = Checksum.Sum(b) + (v6 && ip is not null ? ip.PseudoSum(58, b.Length) : 0);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), Checksum.Fold(sum));
            return b;
        }
    }

    private sealed record RawLayer(byte[] Bytes) : Layer
    {
        public override byte[] Write(byte[] inner, Layer? next, IpLayer? ip, bool lastMpls) => [.. Bytes, .. inner];
    }

    private static void WriteL4Checksum(byte[] segment, int offset, IpLayer? ip, byte protocol)
    {
        if (ip is null)
            return;
        var c = Checksum.Fold(Checksum.Sum(segment) + ip.PseudoSum(protocol, segment.Length));
        if (protocol == 17 && c == 0)
            c = 0xFFFF; // UDP sends a computed zero as all ones
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(offset), c);
    }

    /// <summary>An RFC 3032 label stack entry as a host-order 32-bit value.</summary>
    public static uint MplsEntry(uint label, byte tc, bool bos, byte ttl) =>
        (label << 12) | ((uint)(tc & 7) << 9) | (bos ? 1u << 8 : 0) | ttl;
}

/// <summary>TCP option encodings for <see cref="Packet.Tcp"/>.</summary>
public static class TcpOptions
{
    public const byte Nop = 1;

    public static byte[] Mss(ushort mss) => [2, 4, (byte)(mss >> 8), (byte)mss];
    public static byte[] SackPermitted => [4, 2];
    public static byte[] Timestamps(uint value, uint echo) =>
        [8, 10, (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value,
         (byte)(echo >> 24), (byte)(echo >> 16), (byte)(echo >> 8), (byte)echo];
    public static byte[] WindowScale(byte shift) => [3, 3, shift];

    /// <summary>What Linux sends in a SYN: MSS, SACK permitted, timestamps, NOP, window scale.</summary>
    public static byte[] LinuxSyn(ushort mss = 1460) => [.. Mss(mss), .. SackPermitted, .. Timestamps(1, 0), Nop, .. WindowScale(7)];
}

/// <summary>IPv4 option encodings for <see cref="Packet.IPv4"/>.</summary>
public static class IPv4Options
{
    public const byte Nop = 1;

    /// <summary>Router alert (RFC 2113), as IGMP and RSVP send it.</summary>
    public static byte[] RouterAlert => [0x94, 4, 0, 0];

    /// <summary>A timestamp option (RFC 791) with room for <paramref name="slots"/> timestamps, none recorded.</summary>
    public static byte[] Timestamp(int slots) => [0x44, (byte)(4 + 4 * slots), 5, 0, .. new byte[4 * slots]];
}

/// <summary>Internet checksum (RFC 1071).</summary>
public static class Checksum
{
    public static uint Sum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += (uint)(data[i] << 8 | data[i + 1]);
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        return sum;
    }

    public static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>True when the TCP or UDP segment of the IPv4 packet at <paramref name="ipOffset"/>
    /// has a valid checksum (pseudo-header included).</summary>
    public static bool IPv4L4Valid(ReadOnlySpan<byte> frame, int ipOffset)
    {
        var hl = (frame[ipOffset] & 0x0F) * 4;
        var total = frame[ipOffset + 2] << 8 | frame[ipOffset + 3];
        var segment = frame.Slice(ipOffset + hl, total - hl);
        var pseudo = Sum(frame.Slice(ipOffset + 12, 8)) + frame[ipOffset + 9] + (uint)segment.Length;
        return Fold(Sum(segment) + pseudo) == 0;
    }

    /// <summary>True when the IPv4 header at <paramref name="offset"/> sums to zero.</summary>
    public static bool IPv4HeaderValid(ReadOnlySpan<byte> frame, int offset)
    {
        var hl = (frame[offset] & 0x0F) * 4;
        return Fold(Sum(frame.Slice(offset, hl))) == 0;
    }
}

/// <summary>An NSH MD type 2 context header: metadata class, type, value (padded to 4 bytes on the wire).</summary>
public sealed record NshTlv(ushort Class, byte Type, byte[] Value)
{
    public byte[] Encode()
    {
        var padded = (Value.Length + 3) / 4 * 4;
        var b = new byte[4 + padded];
        BinaryPrimitives.WriteUInt16BigEndian(b, Class);
        b[2] = Type;
        b[3] = (byte)(Value.Length & 0x7F);
        Value.CopyTo(b, 4);
        return b;
    }
}
