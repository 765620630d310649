using System.Runtime.InteropServices;

namespace SfcProxy.Dsr;

// Mirror of bpf/dsr/dsr_shared.h. Field order, sizes and enum values must match the C side;
// SharedLayoutTests compares them against the BTF of dsr_lb.bpf.o.

/// <summary>Limits shared with the DSR load-balancer datapath.</summary>
public static class DsrLimits
{
    /// <summary>DSR_MAGLEV_SIZE: slots of every Maglev table (= <see cref="DsrTables.MaglevTableSize"/>).</summary>
    public const int MaglevSize = 65537;
    /// <summary>DSR_MAX_SERVICES: service ids are 0 .. MaxServices - 1.</summary>
    public const uint MaxServices = 1024;
    /// <summary>DSR_MAX_BACKENDS: backend ids are 1 .. MaxBackends - 1.</summary>
    public const uint MaxBackends = 4096;
    /// <summary>DSR_CONN_DEFAULT_ENTRIES: connection table size unless set before load.</summary>
    public const uint ConnDefaultEntries = 65536;
    /// <summary>DSR_DEFAULT_MTU: egress MTU when the config says 0.</summary>
    public const uint DefaultMtu = 1500;
    /// <summary>DSR_ENCAP_LEN: bytes of the outer IPv4 header.</summary>
    public const int EncapLength = 20;
    /// <summary>DSR_ENCAP6_LEN: bytes of the outer IPv6 header.</summary>
    public const int Encap6Length = 40;
    /// <summary>DSR_IPV6_MIN_MTU: the IPv6 minimum link MTU (RFC 8200 5); an IPv6 VIP needs Mtu of at least this + 40.</summary>
    public const int IPv6MinMtu = 1280;
    /// <summary>DSR_DEFAULT_HOP_LIMIT: outer TTL / hop limit when the config says 0.</summary>
    public const byte DefaultHopLimit = 64;
    /// <summary>DSR_NEXTHOP_DEFAULT_MAX_AGE_MS: next-hop cache entries' age bound when the config says 0.</summary>
    public const uint NexthopDefaultMaxAgeMs = 1000;
    /// <summary>DSR_ICMP_PER_SEC: too-big answers each CPU sends at once after a quiet spell, and then per second.</summary>
    public const int IcmpPerSecond = 500;
}

/// <summary>enum dsr_counter: index into the per-CPU dsr_counters map. Up to <see cref="Aborted"/> outcomes (one per packet), then details.</summary>
public enum DsrCounter : uint
{
    /// <summary>Not IPv4: pass untouched.</summary>
    PassNotIp = 0,
    /// <summary>IPv4 not to a service: pass untouched.</summary>
    PassNotVip,
    /// <summary>IPv4 fragment: pass untouched.</summary>
    PassFragment,
    /// <summary>Truncated or invalid header: drop.</summary>
    Malformed,
    /// <summary>Service without table, empty slot or unknown backend: drop.</summary>
    NoBackend,
    /// <summary>Encapsulated, XDP_TX.</summary>
    Tx,
    /// <summary>Encapsulated, redirected to the FIB's egress interface.</summary>
    Redirect,
    /// <summary>Encapsulated, no next hop known: passed to the stack.</summary>
    PassEncap,
    /// <summary>Too big with DF: ICMP fragmentation needed sent back (XDP_TX).</summary>
    IcmpTooBig,
    /// <summary>Too big, DF clear: encapsulated, passed to the stack to fragment.</summary>
    PassTooBig,
    /// <summary>A helper failed: drop.</summary>
    Aborted,
    /// <summary>Detail: backend from the connection table.</summary>
    ConnHit,
    /// <summary>Detail: backend chosen by Maglev, connection recorded.</summary>
    ConnNew,
    /// <summary>Detail: a SYN's MSS lowered.</summary>
    MssClamped,
    /// <summary>Detail: FIB lookup failed, configured next hop used.</summary>
    FibFallback,
    /// <summary>Detail: bpf_fib_lookup called (next-hop cache empty, stale or off).</summary>
    FibLookup,
    /// <summary>Detail: next hop from the next-hop cache, no FIB lookup.</summary>
    NexthopCached,
    /// <summary>Detail: an ICMP fragmentation needed / ICMPv6 packet too big about a service flow's reply sent to its backend.</summary>
    IcmpForwarded,
    /// <summary>Too big, this CPU's too-big budget (<see cref="DsrLimits.IcmpPerSecond"/>) spent: drop, no error.</summary>
    TooBigLimited,
    /// <summary>Too big, an error about it forbidden (RFC 1122 3.2.2, RFC 4443 2.4 (e)): drop, no error.</summary>
    TooBigSuppressed,
    Max,
}

/// <summary>Which <see cref="DsrCounter"/>s are outcomes (one per packet) and which are events.</summary>
public static class DsrCounters
{
    /// <summary>True for an outcome: the first block up to <see cref="DsrCounter.Aborted"/>, and those appended after the events.</summary>
    public static bool IsOutcome(this DsrCounter counter) => counter <= DsrCounter.Aborted || counter >= DsrCounter.TooBigLimited;
}

/// <summary>enum dsr_config_flag: bits of <see cref="DsrConfig.Flags"/>.</summary>
[Flags]
public enum DsrConfigFlag : uint
{
    /// <summary>Skip bpf_fib_lookup; next hop MAC from the config, XDP_TX.</summary>
    StaticNexthop = 1,
    /// <summary>Leave SYNs' MSS options alone.</summary>
    NoMssClamp = 2,
    /// <summary>bpf_fib_lookup for every packet: no next-hop cache.</summary>
    NoNexthopCache = 4,
}

/// <summary>struct dsr_config.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct DsrConfig
{
    /// <summary>Network byte order.</summary>
    public uint Source;
    /// <summary>Network byte order.</summary>
    public uint SourcePrefix;
    public uint SourcePrefixLen;
    public uint Mtu;
    public uint MssClamp;
    public uint Flags;
    public fixed byte NexthopMac[6];
    public fixed byte Pad[2];
    /// <summary>Age after which a next-hop cache entry is looked up again; 0: <see cref="DsrLimits.NexthopDefaultMaxAgeMs"/>.</summary>
    public uint NexthopMaxAgeMs;
    public uint Pad2;
    /// <summary>Outer IPv6 source (IPv6 backends), as on the wire.</summary>
    public fixed byte Source6[16];
    /// <summary>Outer TTL / hop limit; 0: <see cref="DsrLimits.DefaultHopLimit"/>.</summary>
    public byte HopLimit;
    /// <summary>A DF-clear outer IPv4 header's ID is (per-CPU count &lt;&lt; shift) | CPU: log2 of the possible CPUs, rounded up.</summary>
    public byte IpIdShift;
    public fixed byte Pad3[2];
    public uint Pad4;
}

/// <summary>struct dsr_traffic: a per-CPU value of the per-backend and per-service counters.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DsrTrafficCounter
{
    public ulong Packets;
    /// <summary>The client's IPv4 packets (total length: no L2, no outer header).</summary>
    public ulong Bytes;
}

/// <summary>struct dsr_vip_key.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DsrVipKey
{
    /// <summary>Network byte order.</summary>
    public uint Vip;
    /// <summary>Network byte order.</summary>
    public ushort Port;
    public byte Proto;
    public byte Pad;
}

/// <summary>struct dsr_vip6_key: an IPv6 VIP's service.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct DsrVip6Key
{
    public fixed byte Vip[16];
    /// <summary>Network byte order.</summary>
    public ushort Port;
    public byte Proto;
    public byte Pad;
}

/// <summary>enum dsr_backend_flag: bits of <see cref="DsrBackendEntry.Flags"/>.</summary>
[Flags]
public enum DsrBackendFlag : uint
{
    /// <summary>The backend is <see cref="DsrBackendEntry.Addr6"/>, reached inside an outer IPv6 header.</summary>
    IPv6 = 1,
}

/// <summary>struct dsr_backend: an IPv4 backend in <see cref="Addr"/>, or an IPv6 one in <see cref="Addr6"/> with <see cref="DsrBackendFlag.IPv6"/>; all zero: none.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct DsrBackendEntry
{
    /// <summary>Network byte order; 0 for an IPv6 backend or none.</summary>
    public uint Addr;
    public uint Flags;
    public fixed byte Addr6[16];

    public readonly bool Present => Addr != 0 || (Flags & (uint)DsrBackendFlag.IPv6) != 0;
}

/// <summary>struct dsr_conn_key: the client's 5-tuple as received.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct DsrConnKey
{
    public uint Saddr;
    public uint Daddr;
    public ushort Sport;
    public ushort Dport;
    public byte Proto;
    public fixed byte Pad[3];
}

/// <summary>struct dsr_conn6_key: an IPv6 client's 5-tuple as received.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct DsrConn6Key
{
    public fixed byte Saddr[16];
    public fixed byte Daddr[16];
    public ushort Sport;
    public ushort Dport;
    public byte Proto;
    public fixed byte Pad[3];
}

/// <summary>struct dsr_conn.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DsrConn
{
    public uint BackendId;
    public uint ServiceId;
}
