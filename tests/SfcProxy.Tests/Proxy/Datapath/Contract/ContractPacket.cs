using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>The SFC headers a generated packet arrives with: what the model must see again on it.</summary>
internal abstract record SfcHeaders
{
    public abstract Encapsulation Encap { get; }

    /// <summary>Appends the headers to a frame being built.</summary>
    public abstract Packet Push(Packet p);
}

internal sealed record MplsHeaders(LabelStackEntry[] Stack) : SfcHeaders
{
    public override Encapsulation Encap => Encapsulation.Mpls;

    public override Packet Push(Packet p)
    {
        foreach (var e in Stack)
            p = p.Mpls(e.Label, e.Ttl, e.TrafficClass, e.BottomOfStack);
        return p;
    }

    public override string ToString() => $"MPLS[{Stack.Length}: {string.Join(" ", Stack.Take(3))}{(Stack.Length > 3 ? " ..." : "")}]";
}

/// <summary>An NSH header; <paramref name="InnerEth"/> set: next protocol Ethernet, the VNF gets that frame.</summary>
internal sealed record NshHeaders(uint Spi, byte Si, byte Ttl, byte MdType, byte[]? Context, NshTlv[] Tlvs, bool Oam,
    InnerEthernet? InnerEth) : SfcHeaders
{
    public override Encapsulation Encap => Encapsulation.Nsh;

    public override Packet Push(Packet p)
    {
        p = p.Nsh(Spi, Si, Ttl, MdType, Context, Tlvs, Oam);
        return InnerEth?.Push(p) ?? p;
    }

    public override string ToString() =>
        $"NSH[MD{MdType}{(MdType == 2 ? $" {Tlvs.Length} TLVs" : "")}, SPI {Spi}, SI {Si}, TTL {Ttl}{(Oam ? ", O" : "")}, " +
        $"{(InnerEth is { } e ? $"Ethernet{(e.Tags.Length > 0 ? $"+{e.Tags.Length} tags" : "")}" : "IP")}]";
}

/// <summary>
/// An SRv6 packet to a proxy SID (docs/srv6.md, RFC 8754 2): the outer IPv6 header, optional hop-by-hop and
/// destination options before the SRH (RFC 8200 4.1 order), the SRH with its Segment List in wire order
/// ([0] the last segment) and TLVs as on the wire, optional destination options after it;
/// <paramref name="InnerEth"/> set: next header 143, the VNF gets that frame.
/// </summary>
internal sealed record Srv6Headers(string Source, string Sid, byte SegmentsLeft, string[] List, byte HopLimit, uint FlowLabel,
    byte TrafficClass, byte[] Tlvs, int HopByHop, int DestBefore, int DestAfter, InnerEthernet? InnerEth) : SfcHeaders
{
    public override Encapsulation Encap => Encapsulation.Srv6;

    /// <summary>The outer IPv6 header and extension headers in bytes (what xdp_rx caches).</summary>
    public int Length => 40 + HopByHop + DestBefore + 8 + 16 * List.Length + Tlvs.Length + DestAfter;

    /// <summary>A reduced SRH (RFC 8754 4.1.1): the first segment left out, Segments Left = Last Entry + 1.</summary>
    public bool Reduced => SegmentsLeft == List.Length;

    public override Packet Push(Packet p)
    {
        p = p.IPv6(Source, Sid, FlowLabel, HopLimit, trafficClass: TrafficClass);
        if (HopByHop > 0)
            p = p.HopByHop(HopByHop);
        if (DestBefore > 0)
            p = p.DestinationOptions(DestBefore);
        p = p.Srh(SegmentsLeft, List, Tlvs);
        if (DestAfter > 0)
            p = p.DestinationOptions(DestAfter);
        return InnerEth?.Push(p) ?? p;
    }

    public override string ToString() =>
        $"SRv6[{List.Length} segments{(Reduced ? " reduced" : "")}, SL {SegmentsLeft}, hop {HopLimit}" +
        $"{(Tlvs.Length > 0 ? $", {Tlvs.Length} B TLVs" : "")}{(HopByHop > 0 ? ", hbh" : "")}{(DestBefore > 0 ? ", dst before" : "")}" +
        $"{(DestAfter > 0 ? ", dst after" : "")}, {Length} B, SID {Sid}, " +
        $"{(InnerEth is { } e ? $"Ethernet{(e.Tags.Length > 0 ? $"+{e.Tags.Length} tags" : "")}" : "IP")}]";
}

/// <summary>The inner Ethernet header (and tags) an NSH or SRv6 packet carries in front of its IP packet.</summary>
internal sealed record InnerEthernet(byte[] Dst, byte[] Src, (ushort Tpid, ushort Vid)[] Tags)
{
    public Packet Push(Packet p)
    {
        p = p.InnerEth(Dst, Src);
        foreach (var (tpid, vid) in Tags)
            p = p.Vlan(vid, tpid);
        return p;
    }
}

/// <summary>A datagram sent as fragments: what a reassembling VNF puts back together.</summary>
internal sealed class Datagram(string name)
{
    public string Name { get; } = name;
    public List<ContractPacket> Fragments { get; } = [];
}

/// <summary>
/// One frame the model gives xdp_rx, what it knows about it (its SFC headers as received, its inner
/// packet, how it was made), and what happened to it in the run.
/// </summary>
internal sealed class ContractPacket
{
    public required int Id { get; init; }
    /// <summary>How the inner packet was made, for failure messages ("ipv6 hbh+dst / tcp ...").</summary>
    public required string Shape { get; init; }
    /// <summary>The frame as given to xdp_rx.</summary>
    public required byte[] Frame { get; init; }
    /// <summary>Null: not SFC, or malformed on purpose (<see cref="RxExpected"/> says how).</summary>
    public SfcHeaders? Headers { get; init; }
    /// <summary>The inner IP packet, without padding.</summary>
    public required byte[] Ip { get; init; }
    /// <summary>Bytes of L2 header in front of the SFC headers.</summary>
    public int OuterL2Length { get; init; }
    /// <summary>The SFC headers as they were on the wire (label stack, the NSH header, or SRv6's outer IPv6 header and extension headers).</summary>
    public byte[] Received { get; init; } = [];
    /// <summary>Malformed or not SFC on purpose: the one outcome xdp_rx must count.</summary>
    public Counter? RxExpected { get; init; }
    /// <summary>Near-collision family this packet belongs to ("" for none).</summary>
    public string Family { get; set; } = "";
    /// <summary>Members of an identical-inner-packet family: never mark-changed, duplicated or held,
    /// since no datapath can tell them apart once the entry of one is gone.</summary>
    public bool IdenticalFamily { get; set; }
    public Datagram? Datagram { get; set; }
    /// <summary>Header-hash: packets made to differ only where issue 11 lets a datapath either tell
    /// them apart or refuse the second one at ingress (UDP with the same checksum and first payload
    /// bytes, TCP with the same seq/ack/len): rx_key_conflict is acceptable between them.</summary>
    public List<ContractPacket>? Alike { get; set; }
    public string Behaviour { get; set; } = "";

    // --- the run ---
    public RxRun Rx { get; set; }
    public Counter? RxOutcome { get; set; }
    public bool RxRan { get; set; }
    /// <summary>Popped: the VNF got it (rx_popped, or rx_duplicate_key in header-hash mode).</summary>
    public bool Popped { get; set; }
    public ulong RxStartNs { get; set; }
    public ulong RxEndNs { get; set; }
    /// <summary>An emission of this packet was found in the cache with the verdict EXPECTED(X) asks for.</summary>
    public int Found { get; set; }
    /// <summary>An emission of this packet met a cache entry, whatever the verdict (its reference may be gone).</summary>
    public bool EntryUsed { get; set; }
    /// <summary>Header-hash mode: an aging sweep ran with a cutoff after this packet's pop.</summary>
    public bool Swept { get; set; }
    /// <summary>Header-hash mode: an identical copy (same headers) whose own entry was aged met this
    /// packet's entry at the egress and spent its reference: the two cannot be told apart.</summary>
    public ContractPacket? ReferenceSpentBy { get; set; }
    public int Episode { get; set; }
    /// <summary>For a failure message: where this packet's headers left on another frame.</summary>
    public string? HeadersTaken { get; set; }

    public Encapsulation Encap => Headers?.Encap ?? Encapsulation.None;
    /// <summary>NSH or SRv6 with an inner Ethernet frame: the VNF gets that frame, tc_tx puts a new outer Ethernet header in front.</summary>
    public bool OverEthernet => Headers is NshHeaders { InnerEth: not null } or Srv6Headers { InnerEth: not null };

    private string? _normalKey;
    private string? _ipKey;
    private string? _natKey;

    /// <summary>The inner packet without the fields a VNF may rewrite (see <see cref="IpFields.Normalized"/>).</summary>
    public string NormalKey => _normalKey ??= Convert.ToBase64String(IpFields.Normalized(Ip));
    public string IpKey => _ipKey ??= Convert.ToBase64String(Ip);

    /// <summary>The inner packet without what NAT rewrites either (<see cref="IpFields.NatNormalized"/>).</summary>
    public string NatKey => _natKey ??= Convert.ToBase64String(IpFields.NatNormalized(Ip));

    public bool SameHeaders(ContractPacket other) => Received.AsSpan().SequenceEqual(other.Received);

    /// <summary>The source MAC of the frame it arrived in (NSH or SRv6 over Ethernet goes back there by default).</summary>
    public byte[] OuterSrc => Frame[6..12];

    /// <summary>The frame the VNF must be handed: the SFC headers gone, the rest as it came (padding too).</summary>
    public byte[] ExpectedPopped()
    {
        var after = Frame.AsSpan(OuterL2Length + Received.Length);
        if (OverEthernet)
            return after.ToArray();
        var l2 = Wire.WithEtherType(Frame.AsSpan(0, OuterL2Length), Ip[0] >> 4 == 6 ? Wire.IPv6 : Wire.IPv4);
        return [.. l2, .. after];
    }

    public string Describe() =>
        $"#{Id} {Headers?.ToString() ?? "not SFC"} {(OuterL2Length > 14 ? $"+{(OuterL2Length - 14) / 4} VLAN tags " : "")}" +
        $"| {Shape}{(Family.Length > 0 ? $" | family {Family}" : "")}{(Behaviour.Length > 0 ? $" | VNF {Behaviour}" : "")}";
}
