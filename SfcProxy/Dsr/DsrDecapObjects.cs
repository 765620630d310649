using System.Net;
using System.Net.Sockets;
using SfcProxy.Bpf;

namespace SfcProxy.Dsr;

/// <summary>Counters of dsr_decap (mirrors enum dsr_decap_counter in bpf/dsr/dsr_decap_shared.h).
/// Every packet counts in exactly one.</summary>
public enum DsrDecapCounter : uint
{
    /// <summary>IPv4-in-IPv4 to a VIP: outer header removed, passed to the stack.</summary>
    Decapsulated = 0,
    /// <summary>Not IPv4 protocol 4 (plain IPv4, IPv6, ARP, ...): untouched.</summary>
    NotIpip,
    /// <summary>IPv4-in-IPv4 whose inner destination is no VIP: untouched.</summary>
    NotVip,
    /// <summary>IPv4-in-IPv4 outer fragment: untouched (left to the stack).</summary>
    Fragment,
    /// <summary>Truncated or invalid outer or inner IPv4 header: untouched.</summary>
    Malformed,
    /// <summary>bpf_skb_adjust_room refused the decapsulation: dropped.</summary>
    AdjustFailed,
    Max,
}

/// <summary>
/// The DSR backend's datapath: dsr_decap (tc ingress) removes the outer IPv4 header of IP-in-IP
/// packets whose inner destination is a configured VIP, so the stack receives the client's packet
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

    /// <summary>Makes <paramref name="vips"/> exactly the set of VIPs that are decapsulated.</summary>
    public void SetVips(IEnumerable<IPAddress> vips)
    {
        ArgumentNullException.ThrowIfNull(vips);
        var wanted = vips.Select(Key).ToHashSet();
        if (wanted.Count > MaxVips)
            throw new ArgumentException($"at most {MaxVips} VIPs", nameof(vips));
        // Add first, then remove: a VIP in both sets is never missing.
        foreach (var k in wanted)
            Vips.Update(k, 1u);
        foreach (var k in Vips.Keys<uint>().ToList())
            if (!wanted.Contains(k))
                Vips.Delete(k);
    }

    public void AddVip(IPAddress vip) => Vips.Update(Key(vip), 1u);

    public bool RemoveVip(IPAddress vip) => Vips.Delete(Key(vip));

    /// <summary>The configured VIPs.</summary>
    public IReadOnlyList<IPAddress> ReadVips() =>
        Vips.Keys<uint>().Select(k => new IPAddress(BitConverter.GetBytes(k))).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToList();

    /// <summary>Per-CPU counters summed over the CPUs.</summary>
    public IReadOnlyDictionary<DsrDecapCounter, ulong> ReadCounters() => Counters.SumAll(DsrDecapCounter.Max);

    public void Dispose() => _obj.Dispose();

    /// <summary>The map key of a VIP: its 4 bytes in network order, as the packet holds them.</summary>
    private static uint Key(IPAddress vip)
    {
        ArgumentNullException.ThrowIfNull(vip);
        if (vip.IsIPv4MappedToIPv6)
            vip = vip.MapToIPv4();
        if (vip.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"VIP {vip}: IPv4 only (IP-in-IP)", nameof(vip));
        return BitConverter.ToUInt32(vip.GetAddressBytes());
    }
}
