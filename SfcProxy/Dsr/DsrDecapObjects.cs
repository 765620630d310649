using System.Net;
using System.Net.Sockets;
using SfcProxy.Bpf;

namespace SfcProxy.Dsr;

/// <summary>Counters of dsr_decap (mirrors enum dsr_decap_counter in bpf/dsr/dsr_decap_shared.h).
/// Every packet counts in exactly one.</summary>
public enum DsrDecapCounter : uint
{
    /// <summary>IP-in-IP (IPv4 protocol 4, IPv6 next header 4 or 41) to a VIP: outer header removed, passed to the stack.</summary>
    Decapsulated = 0,
    /// <summary>Not IP-in-IP (plain IP, ARP, ...): untouched.</summary>
    NotIpip,
    /// <summary>IP-in-IP whose inner destination is no VIP: untouched.</summary>
    NotVip,
    /// <summary>Outer IPv4 fragment or outer IPv6 fragment header: untouched (left to the stack).</summary>
    Fragment,
    /// <summary>Truncated or invalid outer or inner header: untouched.</summary>
    Malformed,
    /// <summary>bpf_skb_adjust_room (or the ECN rewrite) failed: dropped.</summary>
    AdjustFailed,
    /// <summary>RFC 6040 4.2: inner Not-ECT under an outer CE: dropped.</summary>
    EcnDropped,
    Max,
}

/// <summary>
/// The DSR backend's datapath: dsr_decap (tc ingress) removes the outer IPv4 or IPv6 header of IP-in-IP
/// packets whose inner destination is a configured VIP (dsr_decap_vips, dsr_decap_vips6), so the stack receives the client's packet
/// to the VIP (which the backend has on its loopback) and replies to the client directly. Needs no
/// ipip module. Maps are pinned under the instance directory, so VIPs and counters survive a
/// restart of the host.
/// </summary>
public sealed class DsrDecapObjects : IPinnedObjects
{
    /// <summary>VIPs the map holds at most (DSR_DECAP_MAX_VIPS).</summary>
    public const int MaxVips = 1024;

    private readonly BpfObject _obj;

    private DsrDecapObjects(BpfObject obj, BpfPins pins) => (_obj, Pins) = (obj, pins);

    public BpfPins Pins { get; }
    public BpfProgram Program => _obj.Program(DsrBpfNames.Decap.Program);
    public BpfMap Vips => _obj.Map(DsrBpfNames.Maps.DecapVips);
    public BpfMap Vips6 => _obj.Map(DsrBpfNames.Maps.DecapVips6);
    public BpfMap Counters => _obj.Map(DsrBpfNames.Maps.DecapCounters);

    public static string DefaultObjectDirectory => Path.Combine(AppContext.BaseDirectory, "bpf");

    /// <summary>Opens and loads dsr_decap.bpf.o, reusing maps already pinned in the instance directory.</summary>
    public static DsrDecapObjects Load(BpfPins pins, string? objectDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(pins);
        var obj = BpfObject.Open(Path.Combine(objectDirectory ?? DefaultObjectDirectory, DsrBpfNames.Decap.Object + ".bpf.o"), pins.Directory);
        try
        {
            obj.Load();
            return new DsrDecapObjects(obj, pins);
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    /// <summary>Attaches dsr_decap to an interface's tc ingress (the interface the load balancer's
    /// encapsulated packets arrive on).</summary>
    public BpfLink Attach(string ifname) =>
        Program.AttachTc(SfcProxy.Net.NetDevice.IfIndex(ifname), TcDirection.Ingress);

    /// <summary>Makes <paramref name="vips"/> (IPv4 and IPv6) exactly the set of VIPs that are decapsulated.</summary>
    public void SetVips(IEnumerable<IPAddress> vips)
    {
        ArgumentNullException.ThrowIfNull(vips);
        var all = vips.Select(Normal).ToHashSet();
        var v4 = all.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(Key).ToHashSet();
        var v6 = all.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).Select(Key6).ToHashSet();
        if (v4.Count > MaxVips || v6.Count > MaxVips)
            throw new ArgumentException($"at most {MaxVips} VIPs of each family", nameof(vips));
        Swap(Vips, v4);
        Swap(Vips6, v6);
    }

    public void AddVip(IPAddress vip)
    {
        vip = Normal(vip);
        if (vip.AddressFamily == AddressFamily.InterNetwork)
            Vips.Update(Key(vip), 1u);
        else
            Vips6.Update(Key6(vip), 1u);
    }

    public bool RemoveVip(IPAddress vip)
    {
        vip = Normal(vip);
        return vip.AddressFamily == AddressFamily.InterNetwork ? Vips.Delete(Key(vip)) : Vips6.Delete(Key6(vip));
    }

    /// <summary>The configured VIPs, IPv4 then IPv6.</summary>
    public IReadOnlyList<IPAddress> ReadVips() =>
        Vips.Keys<uint>().Select(k => new IPAddress(BitConverter.GetBytes(k))).OrderBy(a => a.ToString(), StringComparer.Ordinal)
            .Concat(Vips6.Keys<Int128>().Select(k => new IPAddress(BitConverter.GetBytes(k))).OrderBy(a => a.ToString(), StringComparer.Ordinal))
            .ToList();

    /// <summary>Per-CPU counters summed over the CPUs.</summary>
    public IReadOnlyDictionary<DsrDecapCounter, ulong> ReadCounters() => Counters.SumAll(DsrDecapCounter.Max);

    public void Dispose() => _obj.Dispose();

    /// <summary>Add first, then remove: a VIP in both sets is never missing.</summary>
    private static void Swap<TKey>(BpfMap map, HashSet<TKey> wanted) where TKey : unmanaged
    {
        foreach (var k in wanted)
            map.Update(k, 1u);
        foreach (var k in map.Keys<TKey>().ToList())
            if (!wanted.Contains(k))
                map.Delete(k);
    }

    /// <summary>An IPv4-mapped IPv6 VIP is its IPv4 address; anything but IPv4 and IPv6 is refused.</summary>
    private static IPAddress Normal(IPAddress vip)
    {
        ArgumentNullException.ThrowIfNull(vip);
        if (vip.IsIPv4MappedToIPv6)
            vip = vip.MapToIPv4();
        if (vip.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"VIP {vip}: IPv4 or IPv6 only", nameof(vip));
        return vip;
    }

    /// <summary>The map key of an IPv4 VIP: its 4 bytes in network order, as the packet holds them.</summary>
    private static uint Key(IPAddress vip) => BitConverter.ToUInt32(vip.GetAddressBytes());

    /// <summary>The map key of an IPv6 VIP: its 16 bytes as the packet holds them (an Int128 is 16 plain bytes).</summary>
    private static Int128 Key6(IPAddress vip) => BitConverter.ToInt128(vip.GetAddressBytes());
}
