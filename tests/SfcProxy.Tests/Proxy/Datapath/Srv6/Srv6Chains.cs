using SfcProxy.Net;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy.Options;

namespace SfcProxy.Tests.Proxy.Datapath.Srv6;

/// <summary>The proxy SIDs the datapath tests configure (ProxyUnderTest's default).</summary>
internal static class Srv6Sids
{
    /// <summary>Serves every inner type.</summary>
    public const string Proxy = "2001:2:ff::100";
    /// <summary>Serves IPv4 only.</summary>
    public const string V4Only = "2001:2:ff::200";
    public const string Source = "2001:2:1::1";

    public static Srv6Options Default => new()
    {
        Sids =
        [
            new Srv6SidOptions { Sid = Proxy, Inner = [Srv6Inner.IPv4, Srv6Inner.IPv6, Srv6Inner.Ethernet] },
            new Srv6SidOptions { Sid = V4Only, Inner = [Srv6Inner.IPv4] },
        ],
    };
}

/// <summary>
/// An SRv6 chain as it reaches the proxy and as it must leave: the outer IPv6 header, optional hop-by-hop and
/// destination options around the SRH, the SRH's segments and TLVs. <see cref="On"/> builds it at the proxy (DA the
/// proxy SID, Segments Left pointing at it); <see cref="After"/> builds what RFC 8754 4.3.1.1 says leaves (SL - 1, DA
/// the next segment, hop limit - 1), from the same description, so the expected frame is stated, not copied.
/// </summary>
internal sealed record Srv6Chain(string Name, int Segments, bool Reduced = false, byte[]? Tlvs = null, bool HopByHop = false,
    bool DestOptsAfter = false, string Sid = Srv6Sids.Proxy)
{
    public static string Segment(int i) => $"2001:2:e::{i + 1:x}";

    /// <summary>Segment List in wire order: [0] the last segment; the proxy SID on top unless reduced.</summary>
    public string[] List => Reduced
        ? [.. Enumerable.Range(0, Segments).Select(Segment)]
        : [.. Enumerable.Range(0, Segments - 1).Select(Segment), Sid];

    /// <summary>Segments Left at the proxy.</summary>
    public byte SegmentsLeft => (byte)(Reduced ? Segments : Segments - 1);

    public Packet On(Packet l2, byte hopLimit = 64) => Headers(l2, Sid, SegmentsLeft, hopLimit);

    public Packet After(Packet l2, byte hopLimit) => Headers(l2, List[SegmentsLeft - 1], (byte)(SegmentsLeft - 1), hopLimit);

    private Packet Headers(Packet l2, string dst, byte sl, byte hopLimit)
    {
        var p = l2.IPv6(src: Srv6Sids.Source, dst: dst, flowLabel: 0xABCDE, hopLimit: hopLimit, trafficClass: 0x28);
        if (HopByHop)
            p = p.HopByHop(16);
        p = p.Srh(sl, List, Tlvs, tag: 0x77);
        return DestOptsAfter ? p.DestinationOptions(8) : p;
    }

    /// <summary>Pad1, then PadN with 5 bytes (RFC 8754 2.1.1): 8 bytes.</summary>
    public static readonly byte[] Padding = [0, 4, 5, 0, 0, 0, 0, 0];

    /// <summary>An HMAC TLV (RFC 8754 2.1.2): type 5, length 38, D/reserved, key id, 32 bytes of HMAC: 40 bytes.</summary>
    public static readonly byte[] Hmac = [5, 38, 0, 0, 0, 0, 0, 9, .. Enumerable.Range(0, 32).Select(i => (byte)(0xC0 + i))];

    public static readonly Srv6Chain[] Popped =
    [
        new("1-segment-reduced", 1, Reduced: true),
        new("2-segments", 2),
        new("10-segments", 10),
        new("16-segments", 16),
        new("3-reduced", 3, Reduced: true),
        new("3-padding-tlvs", 3, Tlvs: Padding),
        new("3-hmac-tlv", 3, Tlvs: Hmac),
        new("16-segments-hmac", 16, Tlvs: Hmac),
        new("hop-by-hop-before-srh", 4, HopByHop: true),
        new("destination-options-after-srh", 2, DestOptsAfter: true, Tlvs: Hmac),
    ];
}
