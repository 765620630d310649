using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SfcProxy.Bpf;

namespace SfcProxy.Dsr;

/// <summary>The load balancer's settings as the host states them (see <see cref="DsrConfig"/>).</summary>
/// <param name="Source">Outer source address (used when <paramref name="SourcePrefix"/> is null).</param>
/// <param name="SourcePrefix">Outer source = prefix | (flow hash &amp; host mask), so receivers spread flows.</param>
/// <param name="Mtu">Egress MTU of the outer packets; 0: 1500.</param>
/// <param name="MssClamp">Largest MSS a SYN may carry; 0: MTU - 60.</param>
/// <param name="NexthopMac">Next hop for <see cref="DsrConfigFlag.StaticNexthop"/> and when the FIB lookup fails.</param>
/// <param name="NexthopMaxAgeMs">How long a FIB answer is reused per backend (the next-hop cache); 0: 1000 ms.</param>
/// <param name="Source6">Outer IPv6 source address (IPv6 backends).</param>
/// <param name="HopLimit">Outer IPv4 TTL and IPv6 hop limit; 0: 64.</param>
public sealed record DsrSettings(IPAddress? Source = null, IPNetwork? SourcePrefix = null, uint Mtu = 0, uint MssClamp = 0,
    DsrConfigFlag Flags = 0, byte[]? NexthopMac = null, uint NexthopMaxAgeMs = 0, IPAddress? Source6 = null, byte HopLimit = 0);

/// <summary>Packets and bytes (of the client's IPv4 packets, as received) summed over the CPUs.</summary>
public readonly record struct DsrTraffic(ulong Packets, ulong Bytes);

/// <summary>
/// The DSR load balancer's datapath (dsr_lb.bpf.o): load with pins, write config, swap tables in.
/// </summary>
/// <remarks>
/// <para><b>Atomic Apply.</b> Each service's Maglev table is an inner ARRAY of dsr_maglev (an
/// ARRAY_OF_MAPS keyed by service id). <see cref="Apply"/> builds a new inner map, fills all 65537
/// slots while no packet can see it, and puts it into the service's slot with one map update: a
/// packet sees the whole old table or the whole new one. Order: backends added or changed first,
/// then tables, then the (VIP, port, protocol) entries of new services (so a VIP always finds a
/// table); removed services lose their entry, then (after an RCU grace period) their table;
/// backends absent from <see cref="DsrTables.Backends"/> have their addresses cleared last, after
/// a grace period, so a connection-table entry still naming one falls back to Maglev instead of
/// being dropped. A backend in no Maglev table but still in <see cref="DsrTables.Backends"/>
/// (weight 0, or removed and not yet purged: <see cref="ActiveDsr"/>) keeps its address, so the
/// connection table keeps its flows on it. A cleared id's traffic counter is zeroed after one more
/// grace period (the id may go to another backend later). The next-hop cache (dsr_nexthops) needs
/// nothing here: its entries name the backend address they were looked up for.</para>
/// </remarks>
public sealed class DsrObjects : IDsrDatapath, IPinnedObjects
{
    private readonly BpfObject _obj;
    private readonly Lock _applyLock = new();
    private DsrTables? _applied;

    private DsrObjects(BpfObject obj, BpfPins pins) => (_obj, Pins) = (obj, pins);

    public BpfPins Pins { get; }
    public BpfProgram Program => _obj.Program(DsrBpfNames.Lb.Program);
    public BpfMap Config => _obj.Map(DsrBpfNames.Maps.Config);
    public BpfMap Services => _obj.Map(DsrBpfNames.Maps.Services);
    public BpfMap Services6 => _obj.Map(DsrBpfNames.Maps.Services6);
    public BpfMap Backends => _obj.Map(DsrBpfNames.Maps.Backends);
    public BpfMap Maglev => _obj.Map(DsrBpfNames.Maps.Maglev);
    public BpfMap Connections => _obj.Map(DsrBpfNames.Maps.Connections);
    public BpfMap Connections6 => _obj.Map(DsrBpfNames.Maps.Connections6);
    public BpfMap Counters => _obj.Map(DsrBpfNames.Maps.Counters);
    public BpfMap BackendTraffic => _obj.Map(DsrBpfNames.Maps.BackendTraffic);
    public BpfMap ServiceTraffic => _obj.Map(DsrBpfNames.Maps.ServiceTraffic);
    public BpfMap Nexthops => _obj.Map(DsrBpfNames.Maps.Nexthops);

    public DsrTables? Applied => _applied;

    public static string DefaultObjectDirectory => Path.Combine(AppContext.BaseDirectory, "bpf");

    /// <summary>Opens and loads dsr_lb.bpf.o; maps pinned in the instance directory are reused.
    /// <paramref name="connectionEntries"/> sizes the IPv4 and the IPv6 connection table alike.</summary>
    public static DsrObjects Load(BpfPins pins, string? objectDirectory = null, uint connectionEntries = DsrLimits.ConnDefaultEntries)
    {
        var obj = BpfObject.Open(Path.Combine(objectDirectory ?? DefaultObjectDirectory, DsrBpfNames.Lb.Object + ".bpf.o"), pins.Directory);
        try
        {
            obj.SetMaxEntries(DsrBpfNames.Maps.Connections, connectionEntries);
            obj.SetMaxEntries(DsrBpfNames.Maps.Connections6, connectionEntries);
            obj.Load();
            return new DsrObjects(obj, pins);
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    public BpfLink AttachXdp(string ifname, XdpAttachMode mode) => Program.AttachXdp(SfcProxy.Net.NetDevice.IfIndex(ifname), mode);

    public unsafe void WriteConfig(DsrSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var c = new DsrConfig
        {
            Mtu = settings.Mtu, MssClamp = settings.MssClamp, Flags = (uint)settings.Flags, NexthopMaxAgeMs = settings.NexthopMaxAgeMs,
            HopLimit = settings.HopLimit, IpIdShift = IpIdShift(BpfMap.PossibleCpuCount),
        };
        if (settings.Source6 is { } source6)
        {
            if (source6.AddressFamily != AddressFamily.InterNetworkV6)
                throw new ArgumentException($"IPv6 source {source6}: an IPv6 address", nameof(settings));
            source6.GetAddressBytes().CopyTo(new Span<byte>(c.Source6, 16));
        }
        if (settings.SourcePrefix is { } prefix)
        {
            if (prefix.BaseAddress.AddressFamily != AddressFamily.InterNetwork || prefix.PrefixLength == 0)
                throw new ArgumentException($"source prefix {prefix}: an IPv4 prefix of length 1..32", nameof(settings));
            c.SourcePrefix = Raw(prefix.BaseAddress);
            c.SourcePrefixLen = (uint)prefix.PrefixLength;
        }
        if (settings.Source is { } source)
            c.Source = Raw(RequireV4(source, "source"));
        if (settings.NexthopMac is { } mac)
        {
            if (mac.Length != 6)
                throw new ArgumentException("next hop MAC: 6 bytes", nameof(settings));
            for (var i = 0; i < 6; i++)
                c.NexthopMac[i] = mac[i];
        }
        Config.Update(0u, c);
    }

    /// <summary>Swaps <paramref name="tables"/> in (see the class remarks).</summary>
    /// <exception cref="ArgumentException">Tables the datapath cannot hold; nothing changed.</exception>
    public void Apply(DsrTables tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        Validate(tables);
        lock (_applyLock)
        {
            var oldBackends = ReadBackendIds();
            var newBackends = tables.Backends.ToDictionary(b => b.BackendId);
            foreach (var b in tables.Backends)
                Backends.Update(b.BackendId, BackendEntry(b.Address));

            foreach (var s in tables.Services)
            {
                using var inner = BuildTable(s.ServiceId, tables.MaglevTables[s.ServiceId]);
                Maglev.SetInner(s.ServiceId, inner);
            }

            SwapServiceKeys(Services, tables.Services.Where(s => !IsV6(s.Vip)).ToDictionary(VipKey, s => s.ServiceId));
            SwapServiceKeys(Services6, tables.Services.Where(s => IsV6(s.Vip)).ToDictionary(Vip6Key, s => s.ServiceId));

            RcuGracePeriod.Wait();
            var liveIds = tables.Services.Select(s => s.ServiceId).ToHashSet();
            for (uint id = 0; id < DsrLimits.MaxServices; id++)
                if (!liveIds.Contains(id) && Maglev.HasInner(id))
                    Maglev.ClearInner(id);
            var gone = oldBackends.Where(id => !newBackends.ContainsKey(id)).ToList();
            foreach (var id in gone)
                Backends.Update(id, new DsrBackendEntry());
            if (gone.Count > 0)
            {
                // Once no packet can still be counting for them, the freed ids' traffic counters
                // start again from 0, so a backend that gets one later starts from 0 too.
                RcuGracePeriod.Wait();
                var zeros = new DsrTrafficCounter[BpfMap.PossibleCpuCount];
                foreach (var id in gone)
                    BackendTraffic.UpdatePerCpu(id, zeros.AsSpan());
            }
            _applied = tables;
        }
    }

    /// <summary>The services and backends in the maps (pinned by an earlier daemon, or applied here); null when empty.</summary>
    public unsafe DsrTables? ReadInstalled()
    {
        var backends = new List<DsrBackend>();
        for (uint id = 1; id < DsrLimits.MaxBackends; id++)
            if (Backends.TryLookup(id, out DsrBackendEntry e) && e.Present)
                backends.Add(new DsrBackend(id, (e.Flags & (uint)DsrBackendFlag.IPv6) != 0 ? new IPAddress(new ReadOnlySpan<byte>(e.Addr6, 16)) : FromRaw(e.Addr)));
        var services = new List<DsrService>();
        foreach (var k in Services.Keys<DsrVipKey>().ToList())
            if (Services.TryLookup(k, out uint id))
                services.Add(new DsrService(id, FromRaw(k.Vip), (ushort)IPAddress.NetworkToHostOrder((short)k.Port), k.Proto));
        foreach (var k in Services6.Keys<DsrVip6Key>().ToList())
            if (Services6.TryLookup(k, out uint id))
                services.Add(new DsrService(id, new IPAddress(new ReadOnlySpan<byte>(k.Vip, 16)), (ushort)IPAddress.NetworkToHostOrder((short)k.Port), k.Proto));
        return backends.Count == 0 && services.Count == 0 ? null : new DsrTables(services, backends, new Dictionary<uint, uint[]>());
    }

    /// <summary>Per-CPU counters summed over the CPUs.</summary>
    public IReadOnlyDictionary<DsrCounter, ulong> ReadCounters() => Counters.SumAll(DsrCounter.Max);

    /// <summary>Packets and bytes sent to a backend id (summed over the CPUs).</summary>
    public DsrTraffic ReadBackendTraffic(uint backendId) => backendId < DsrLimits.MaxBackends ? SumTraffic(BackendTraffic, backendId) : default;

    /// <summary>Packets and bytes balanced for a service id (summed over the CPUs).</summary>
    public DsrTraffic ReadServiceTraffic(uint serviceId) => serviceId < DsrLimits.MaxServices ? SumTraffic(ServiceTraffic, serviceId) : default;

    /// <summary>Connection-table entries (IPv4 and IPv6 clients) per backend id, read with BPF_MAP_LOOKUP_BATCH.</summary>
    public IReadOnlyDictionary<uint, int> CountConnections()
    {
        var counts = new Dictionary<uint, int>();
        void Count(ReadOnlySpan<DsrConn> values)
        {
            foreach (var v in values)
                counts[v.BackendId] = counts.GetValueOrDefault(v.BackendId) + 1;
        }
        ScanConnections<DsrConnKey>(Connections, (keys, values) => Count(values));
        ScanConnections<DsrConn6Key>(Connections6, (keys, values) => Count(values));
        return counts;
    }

    /// <summary>Deletes the connection-table entries (IPv4 and IPv6 clients) naming <paramref name="backendId"/>; returns how many.</summary>
    public int DeleteConnections(uint backendId) =>
        DeleteConnections<DsrConnKey>(Connections, backendId) + DeleteConnections<DsrConn6Key>(Connections6, backendId);

    private static int DeleteConnections<TKey>(BpfMap table, uint backendId) where TKey : unmanaged
    {
        var doomed = new List<TKey>();
        ScanConnections<TKey>(table, (keys, values) =>
        {
            for (var i = 0; i < keys.Length; i++)
                if (values[i].BackendId == backendId)
                    doomed.Add(keys[i]);
        });
        var deleted = 0;
        // One at a time: the datapath (LRU eviction, a SYN re-pointing the flow) may have removed
        // or changed an entry since the scan; a missing key is not an error.
        foreach (var k in doomed)
            if (table.TryLookup(k, out DsrConn c) && c.BackendId == backendId && table.Delete(k))
                deleted++;
        return deleted;
    }

    /// <summary>Runs dsr_lb once on a frame through BPF_PROG_TEST_RUN; returns the verdict and the frame it left.</summary>
    /// <param name="ingressIfindex">Interface the frame "arrived" on (of the calling thread's
    /// network namespace); 0: the namespace's loopback, as the kernel defaults.</param>
    public (uint Verdict, byte[] Frame) TestRun(byte[] frame, int ingressIfindex = 0)
    {
        var ctx = XdpContext.ForPacket(frame.Length);
        ctx.IngressIfindex = (uint)ingressIfindex;
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<XdpContext>(in ctx));
        var r = Program.TestRun(frame, bytes, Marshal.SizeOf<XdpContext>());
        var ctxOut = MemoryMarshal.Read<XdpContext>(r.Context);
        return (r.ReturnValue, r.Data[(int)ctxOut.Data..]);
    }

    public void Dispose() => _obj.Dispose();

    /// <summary>Batch size of connection-table scans: LRU hash batches return whole buckets, so
    /// leave room for more than one bucket's worth.</summary>
    private const int ConnectionBatch = 1024;

    private delegate void ConnectionChunk<TKey>(ReadOnlySpan<TKey> keys, ReadOnlySpan<DsrConn> values);

    private static void ScanConnections<TKey>(BpfMap table, ConnectionChunk<TKey> chunk) where TKey : unmanaged
    {
        var keys = new TKey[ConnectionBatch];
        var values = new DsrConn[ConnectionBatch];
        var cursor = new MapBatchCursor();
        while (!cursor.Finished)
        {
            var n = table.LookupBatch(cursor, keys.AsSpan(), values.AsSpan());
            chunk(keys.AsSpan(0, n), values.AsSpan(0, n));
        }
    }

    /// <summary>Puts the wanted (VIP, port, protocol) keys of one family in, then takes the stale ones out.</summary>
    private static void SwapServiceKeys<TKey>(BpfMap map, Dictionary<TKey, uint> wanted) where TKey : unmanaged
    {
        var stale = map.Keys<TKey>().Where(k => !wanted.ContainsKey(k)).ToList();
        foreach (var (k, id) in wanted)
            map.Update(k, id);
        foreach (var k in stale)
            map.Delete(k);
    }

    private HashSet<uint> ReadBackendIds()
    {
        var ids = new HashSet<uint>();
        for (uint id = 1; id < DsrLimits.MaxBackends; id++)
            if (Backends.TryLookup(id, out DsrBackendEntry e) && e.Present)
                ids.Add(id);
        return ids;
    }

    private static BpfMap BuildTable(uint serviceId, uint[] table)
    {
        var map = BpfMap.Create(BpfMapType.Array, sizeof(uint), sizeof(uint), (uint)DsrLimits.MaglevSize, 0, $"dsr_mg_{serviceId}");
        try
        {
            for (uint i = 0; i < table.Length; i++)
                if (table[i] != 0)
                    map.Update(i, table[i]);
            return map;
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    private static void Validate(DsrTables tables)
    {
        var errors = new List<string>();
        var backendIds = new HashSet<uint>();
        foreach (var b in tables.Backends)
        {
            if (b.BackendId == 0 || b.BackendId >= DsrLimits.MaxBackends)
                errors.Add($"backend {b}: id must be 1 .. {DsrLimits.MaxBackends - 1}");
            if (b.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || b.Address.IsIPv4MappedToIPv6)
                errors.Add($"backend {b}: an IPv4 or IPv6 address");
            if (!backendIds.Add(b.BackendId))
                errors.Add($"backend {b}: duplicate id");
        }
        var v6Backends = tables.Backends.Where(b => IsV6(b.Address)).Select(b => b.BackendId).ToHashSet();
        var keys = new HashSet<(IPAddress, ushort, byte)>();
        foreach (var s in tables.Services)
        {
            if (s.ServiceId >= DsrLimits.MaxServices)
                errors.Add($"service {s}: id must be below {DsrLimits.MaxServices}");
            if (s.Vip.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || s.Vip.IsIPv4MappedToIPv6)
                errors.Add($"service {s}: the VIP must be an IPv4 or IPv6 address");
            else if (!keys.Add((s.Vip, s.Port, s.Protocol)))
                errors.Add($"service {s}: duplicate (VIP, port, protocol)");
            if (s.Protocol is not (6 or 17))
                errors.Add($"service {s}: protocol must be 6 (TCP) or 17 (UDP)");
            if (!tables.MaglevTables.TryGetValue(s.ServiceId, out var t))
                errors.Add($"service {s}: no Maglev table");
            else if (t.Length != DsrLimits.MaglevSize)
                errors.Add($"service {s}: Maglev table of {t.Length} slots, not {DsrLimits.MaglevSize}");
            else if (t.FirstOrDefault(id => id != 0 && !backendIds.Contains(id)) is var unknown and not 0)
                errors.Add($"service {s}: Maglev table names unknown backend {unknown}");
            else if (IsV6(s.Vip) && t.FirstOrDefault(id => id != 0 && !v6Backends.Contains(id)) is var v4 and not 0)
                errors.Add($"service {s}: an IPv6 VIP's table names IPv4 backend {v4} (IPv6 in IPv4 is not supported)");
        }
        if (errors.Count > 0)
            throw new ArgumentException("DSR tables rejected by the datapath:\n" + string.Join("\n", errors), nameof(tables));
    }

    private static DsrVipKey VipKey(DsrService s) => new()
    {
        Vip = s.Vip.AddressFamily == AddressFamily.InterNetwork ? Raw(s.Vip) : 0,
        Port = (ushort)IPAddress.HostToNetworkOrder((short)s.Port),
        Proto = s.Protocol,
    };

    private static DsrVip6Key Vip6Key(DsrService s)
    {
        var k = new DsrVip6Key { Port = (ushort)IPAddress.HostToNetworkOrder((short)s.Port), Proto = s.Protocol };
        unsafe
        {
            s.Vip.GetAddressBytes().CopyTo(new Span<byte>(k.Vip, 16));
        }
        return k;
    }

    private static bool IsV6(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>A backend's slot: an IPv4 address, or an IPv6 one with its flag (the outer header's family).</summary>
    private static unsafe DsrBackendEntry BackendEntry(IPAddress address)
    {
        if (!IsV6(address))
            return new DsrBackendEntry { Addr = Raw(address) };
        var e = new DsrBackendEntry { Flags = (uint)DsrBackendFlag.IPv6 };
        address.GetAddressBytes().CopyTo(new Span<byte>(e.Addr6, 16));
        return e;
    }

    /// <summary>log2 of the possible CPUs, rounded up: the CPU number's bits in a DF-clear outer IPv4 ID.</summary>
    internal static byte IpIdShift(int cpus) => (byte)(cpus <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)cpus - 1));

    private static IPAddress RequireV4(IPAddress a, string what) =>
        a.AddressFamily == AddressFamily.InterNetwork ? a : throw new ArgumentException($"{what} {a}: IPv4 only");

    /// <summary>An IPv4 address as the datapath stores it (network byte order in memory).</summary>
    private static uint Raw(IPAddress a) => BinaryPrimitives.ReadUInt32LittleEndian(RequireV4(a, "address").GetAddressBytes());

    private static IPAddress FromRaw(uint raw)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, raw);
        return new IPAddress(bytes);
    }

    private static DsrTraffic SumTraffic(BpfMap map, uint key)
    {
        ulong packets = 0, bytes = 0;
        foreach (var v in map.LookupPerCpu<uint, DsrTrafficCounter>(key))
            (packets, bytes) = (packets + v.Packets, bytes + v.Bytes);
        return new DsrTraffic(packets, bytes);
    }

}
