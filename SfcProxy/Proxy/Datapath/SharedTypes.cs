using System.Runtime.InteropServices;

namespace SfcProxy.Proxy.Datapath;

// Mirror of bpf/sfc/sfc_shared.h. Field order, sizes and enum values must match the C side;
// SharedLayoutTests compares them against the BTF of the compiled objects.

/// <summary>Limits and magic numbers shared with the datapath.</summary>
internal static class SfcLimits
{
    /// <summary>SFC_MAX_LABELS: deepest label stack the proxy caches.</summary>
    public const int MaxLabels = 16;
    /// <summary>SFC_META_DEFAULT_MARK_MASK: the skb->mark bits that carry the metadata key unless
    /// Metadata:MarkMask names others.</summary>
    public const uint DefaultMarkMask = 0xFFFF_0000u;
    /// <summary>SFC_NSH_MAX_LEN: room for the largest NSH header (63 words = 252 bytes).</summary>
    public const int NshMaxLength = 256;
    /// <summary>sfc_config.accepted_encaps with every encapsulation the datapath knows.</summary>
    public const uint AcceptAll = (1u << (int)Encapsulation.Mpls) | (1u << (int)Encapsulation.Nsh) | (1u << (int)Encapsulation.Srv6);
    /// <summary>SFC_SRV6_MAX_LEN: the largest outer IPv6 header + extension headers one entry caches.</summary>
    public const int Srv6MaxLength = 384;
    /// <summary>SFC_SRV6_MAX_SIDS: proxy SIDs one instance serves.</summary>
    public const int Srv6MaxSids = 8;
    /// <summary>SFC_SRV6_STATIC_MAX_LEN: the static miss policy's IPv6 header and SRH (16 segments).</summary>
    public const int Srv6StaticMaxLength = 304;
    /// <summary>SFC_META_MAGIC.</summary>
    public const ushort MetaMagic = 0x5fc0;
    /// <summary>SFC_LAT_BUCKETS: buckets of a VNF latency histogram (bucket i: [2^i, 2^(i+1)) ns).</summary>
    public const int LatencyBuckets = 32;
    /// <summary>SFC_LAT_DEFAULT_CHAINS: max_entries of sfc_latency unless the host sets another.</summary>
    public const uint LatencyDefaultChains = 1024;
    /// <summary>SFC_META_MAX_RINGS: rings of the metadata cache at most (the key's CPU byte).</summary>
    public const int MetaMaxRings = 256;
}

/// <summary>enum sfc_key_mode.</summary>
public enum KeyMode : uint
{
    /// <summary>Artificial key carried as XDP metadata and skb->mark (kernel VNF, same netns).</summary>
    Metadata = 0,
    /// <summary>Key built from inner header fields the VNF does not change (any non-NAT VNF).</summary>
    HeaderHash = 1,
}

/// <summary>enum sfc_miss_policy: what tc_tx does with a packet that has no cached headers.</summary>
public enum MissPolicy : uint
{
    Drop = 0,
    Pass = 1,
    Static = 2,
}

/// <summary>enum sfc_encap.</summary>
public enum Encapsulation : byte
{
    None = 0,
    Mpls = 1,
    Nsh = 2,
    /// <summary>SRv6 (RFC 8754 SRH), End.AD per packet.</summary>
    Srv6 = 3,
}

/// <summary>SFC_SRV6_INNER_*: the inner packets a proxy SID hands to the VNF (sfc_config.srv6_sid_inner).</summary>
[Flags]
public enum Srv6Inner : uint
{
    None = 0,
    /// <summary>Next header 4.</summary>
    IPv4 = 0x1,
    /// <summary>Next header 41.</summary>
    IPv6 = 0x2,
    /// <summary>Next header 143.</summary>
    Ethernet = 0x4,
}

/// <summary>enum sfc_counter: index into the per-CPU sfc_counters map.</summary>
public enum Counter : uint
{
    RxPopped = 0,
    RxDuplicateKey,
    RxNotSfc,
    RxTruncated,
    RxTooManyLabels,
    RxNotIp,
    RxCacheFull,
    RxError,
    TxRestored,
    TxRestoredLast,
    TxNotIp,
    TxMissDrop,
    TxMissPass,
    TxMissStatic,
    TxTtlExpired,
    TxGso,
    TxMalformed,
    TxError,
    MarkSet,
    MarkNoMeta,
    LabelsPopped,
    LabelsPushed,
    RxNshBadVersion,
    RxNshBadMdType,
    RxNshBadLength,
    RxNshBadNextProto,
    RxNshBadTlv,
    TxSiExhausted,
    NshPopped,
    NshRestored,
    NshOam,
    /// <summary>Metadata mode: a slot older than MaxAge taken over (detail, not an outcome).</summary>
    MetaAgedOut,
    /// <summary>xdp_rx outcome (drop): the key is cached with other headers; refused, never swapped.</summary>
    RxKeyConflict,
    /// <summary>tc_tx outcome (drop): the restored packet exceeds the egress MTU.</summary>
    TxTooBig,
    /// <summary>Detail: an ICMP fragmentation needed / packet too big sent along the chain.</summary>
    IcmpTooBigSent,
    /// <summary>Detail: the key led to another packet's entry; handled as a miss.</summary>
    ForeignEntry,
    /// <summary>Detail (metadata): a fragment joined its datagram's slot.</summary>
    FragJoined,
    /// <summary>xdp_rx outcome (pass): IPv6 to an address that is no proxy SID.</summary>
    RxSrv6NotSid,
    /// <summary>xdp_rx outcome (pass to the host): to a proxy SID without a routing header.</summary>
    RxSrv6NoSrh,
    /// <summary>xdp_rx outcome (drop): a routing header that is not an SRH, or two.</summary>
    RxSrv6NotSrh,
    /// <summary>xdp_rx outcome (drop): Segments Left 0.</summary>
    RxSrv6SlZero,
    /// <summary>xdp_rx outcome (drop): Last Entry or Segments Left do not fit the SRH.</summary>
    RxSrv6BadSrh,
    /// <summary>xdp_rx outcome (drop): an extension header runs past the packet.</summary>
    RxSrv6BadLength,
    /// <summary>xdp_rx outcome (drop): IPv6 + extension headers longer than the cache keeps.</summary>
    RxSrv6TooLong,
    /// <summary>xdp_rx outcome (drop): an SRH TLV runs past the header.</summary>
    RxSrv6BadTlv,
    /// <summary>xdp_rx outcome (drop): an inner packet the SID does not serve.</summary>
    RxSrv6BadInner,
    /// <summary>Detail: SRv6 headers taken off.</summary>
    Srv6Popped,
    /// <summary>Detail: SRv6 headers put back.</summary>
    Srv6Restored,
    Max,
}

/// <summary>struct sfc_config: the single entry of the sfc_config map.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SfcConfig
{
    public uint KeyMode;
    public uint MissPolicy;
    public uint ConsumedSegments;
    public uint StaticLabelCount;
    /// <summary>Network byte order, TTL and BoS as pushed.</summary>
    public fixed uint StaticLabels[SfcLimits.MaxLabels];
    /// <summary>Bit per accepted <see cref="Encapsulation"/> (1 &lt;&lt; value).</summary>
    public uint AcceptedEncaps;
    public fixed byte EgressMac[6];
    /// <summary>All zero: the popped frame's source MAC.</summary>
    public fixed byte NshNextHopMac[6];
    /// <summary>One packet in N per CPU goes into the latency histograms; 0 and 1: every packet.</summary>
    public uint LatencySampleEvery;
    /// <summary>Metadata mode: slots per CPU ring of sfc_meta_cache (set by <c>ProxyObjects.WriteConfig</c>).</summary>
    public uint MetaSlotsPerCpu;
    /// <summary>Metadata mode: a slot popped this long ago may be taken over (Cache:MaxAge); 0: never.</summary>
    public ulong MetaMaxAgeNs;
    /// <summary>Metadata mode: the skb->mark bits carrying the key (contiguous); 0: <see cref="SfcLimits.DefaultMarkMask"/>.</summary>
    public uint MetaMarkMask;
    /// <summary>Metadata mode: lowest set bit of <see cref="MetaMarkMask"/>.</summary>
    public uint MetaMarkShift;
    /// <summary>Source of the ICMP errors tc_tx sends, network byte order; 0: the quoted packet's destination.</summary>
    public uint IcmpSrc4;
    /// <summary>The same for ICMPv6; all zero: the quoted packet's destination.</summary>
    public fixed uint IcmpSrc6[4];
    /// <summary>Metadata mode: low bits of the key holding slot index + 1 (set by <c>ProxyObjects.WriteConfig</c>).</summary>
    public uint MetaIndexBits;
    /// <summary>Metadata mode: <see cref="MetaFingerprint"/>, what a slot's fingerprint covers.</summary>
    public uint MetaFingerprint;
    /// <summary>1: packets not sampled for latency are stamped with the coarse monotonic clock (at most one tick behind); see <c>BpfProxyDatapath.CoarseClockFor</c>.</summary>
    public uint CoarseClock;
    /// <summary>Entries in <see cref="Srv6SidAddr"/>.</summary>
    public uint Srv6SidCount;
    /// <summary>The proxy SIDs, 4 words each, network byte order.</summary>
    public fixed uint Srv6SidAddr[SfcLimits.Srv6MaxSids * 4];
    /// <summary><see cref="Srv6Inner"/> bits each SID serves.</summary>
    public fixed uint Srv6SidInner[SfcLimits.Srv6MaxSids];
    /// <summary>Bytes in <see cref="StaticSrv6"/>; 0: no static SRv6 header.</summary>
    public uint StaticSrv6Len;
    /// <summary>Miss policy static: the outer IPv6 header and SRH as pushed.</summary>
    public fixed byte StaticSrv6[SfcLimits.Srv6StaticMaxLength];
}

/// <summary>enum sfc_fingerprint: what the metadata mode's fingerprint covers (Metadata:Fingerprint).</summary>
public enum MetaFingerprint : uint
{
    /// <summary>Every field the header-hash key holds; a NATed packet misses.</summary>
    Strict = 0,
    /// <summary>Only what NAT leaves alone; a changed mark between two packets that differ only there is not caught.</summary>
    Nat = 1,
}

/// <summary>struct sfc_flow_key: the header-hash key (the cache map is keyed by its 64-bit tag; the entry holds the key).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SfcFlowKey
{
    public fixed uint Saddr[4];
    public fixed uint Daddr[4];
    public uint IpIdent;
    /// <summary>IPv6 fragment header identification as on the wire; 0 without one.</summary>
    public uint FragId;
    /// <summary>IPv6 fragment header offset and M flag as on the wire; 0 without one.</summary>
    public ushort FragOff;
    public ushort IpLen;
    public byte Family;
    public byte L4Proto;
    /// <summary>Bytes of <see cref="L4"/> the packet has (0..12).</summary>
    public byte L4Len;
    /// <summary>TCP flags without CWR/ECE; 0 for other protocols.</summary>
    public byte TcpFlags;
    public fixed byte L4[12];
    /// <summary>Digest of the upper-layer bytes after the keyed ones.</summary>
    public ulong Digest;
}

/// <summary>
/// union sfc_cache_hdr: the popped headers of one packet. A packet has one encapsulation
/// (<see cref="SfcCacheEntry.Encap"/> says which member holds them), so the three share one buffer
/// sized by the largest, SRv6's.
/// </summary>
[StructLayout(LayoutKind.Explicit)]
internal unsafe struct SfcCacheHdr
{
    /// <summary>MPLS: top first, network byte order.</summary>
    [FieldOffset(0)] public fixed uint Labels[SfcLimits.MaxLabels];
    /// <summary>NSH: the header byte for byte as received.</summary>
    [FieldOffset(0)] public fixed byte Nsh[SfcLimits.NshMaxLength];
    /// <summary>SRv6: the outer IPv6 header and extension headers as they leave (SL and destination already advanced).</summary>
    [FieldOffset(0)] public fixed byte Srv6[SfcLimits.Srv6MaxLength];
}

/// <summary>struct sfc_cache_entry: one cached header set.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SfcCacheEntry
{
    public ulong IngressNs;
    /// <summary>Header-hash: packets in flight under the key; metadata: 0.</summary>
    public uint Refs;
    public byte Encap;
    public byte LabelCount;
    public byte NshLen;
    public byte NshNextProto;
    /// <summary>Metadata: the owning packet's fingerprint; header-hash: the key's tag.</summary>
    public ulong Fingerprint;
    /// <summary>Metadata, fragments: payload bytes of the datagram (0 until its last fragment arrived).</summary>
    public uint FragTotal;
    /// <summary>Metadata, fragments: payload bytes restored so far.</summary>
    public uint FragOut;
    public fixed byte OuterSrc[6];
    /// <summary>1: tc_tx adds this packet's time in the VNF to its chain's histogram.</summary>
    public byte LatencySample;
    /// <summary>Metadata: 1 = the slot is shared by the fragments of one datagram.</summary>
    public byte Frag;
    /// <summary>Metadata mode: the key of the packet owning this array slot (index + 1 and generation), 0 = free. Header-hash mode: 0.</summary>
    public uint Owner;
    /// <summary>Metadata mode: generation of the slot's last claim.</summary>
    public uint Generation;
    /// <summary>The popped headers: labels, NSH or SRv6 by <see cref="Encap"/>.</summary>
    public SfcCacheHdr Hdr;
    /// <summary>SRv6: bytes in <see cref="SfcCacheHdr.Srv6"/>.</summary>
    public ushort Srv6Len;
    /// <summary>SRv6: the inner packet's next header (4, 41, 143).</summary>
    public byte Srv6Next;
    /// <summary>SRv6: index of the proxy SID the packet was addressed to.</summary>
    public byte Srv6Sid;
    public uint Srv6Reserved;
    /// <summary>Metadata, fragments: the head (upper-layer header) digest of the datagram's first fragment, 0 until it arrived.</summary>
    public uint FragHead;
    /// <summary>Metadata, fragments: the datagram's identification as it arrived.</summary>
    public uint FragId;
    /// <summary>Metadata, fragments: the identification its refragmented pieces leave with, learned from the piece with the head.</summary>
    public uint FragIdOut;
    /// <summary>Metadata, fragments: offset + 1 of the last piece counted (a duplicate right behind it is not).</summary>
    public uint FragLast;
    /// <summary>Header-hash: the whole key of the entry's packets (the map's key is its tag, <see cref="Fingerprint"/>).</summary>
    public SfcFlowKey Key;
}

/// <summary>struct sfc_xdp_meta: what xdp_rx leaves in front of the packet in metadata mode.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SfcXdpMeta
{
    public ushort Magic;
    public ushort Reserved;
    /// <summary>The key shifted into the mark bits.</summary>
    public uint Key;
    /// <summary>The mark bits the key occupies (sfc_config.meta_mark_mask at pop).</summary>
    public uint Mask;
}

/// <summary>struct sfc_chain_key: key of the sfc_latency map.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SfcChainKey
{
    /// <summary><see cref="Encapsulation"/>.</summary>
    public byte Encap;
    public fixed byte Reserved[3];
    /// <summary>MPLS: the popped top label's value; NSH: the SPI; SRv6: the proxy SID's index. Host byte order.</summary>
    public uint Chain;
}

/// <summary>struct sfc_latency_hist: one CPU's VNF latency histogram of one chain.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SfcLatencyHist
{
    public fixed ulong Buckets[SfcLimits.LatencyBuckets];
}
