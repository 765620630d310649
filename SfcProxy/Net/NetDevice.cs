using System.ComponentModel;
using System.Runtime.InteropServices;

namespace SfcProxy.Net;

/// <summary>
/// Network interface lookups and the offload switches the proxy needs, over if_nametoindex and the
/// ethtool ioctl. Everything acts in the calling thread's network namespace.
/// </summary>
public static unsafe class NetDevice
{
    private const nuint SIOCETHTOOL = 0x8946;
    private const nuint SIOCGIFHWADDR = 0x8927;
    private const uint ETHTOOL_GFLAGS = 0x25;
    private const uint ETHTOOL_SFLAGS = 0x26;
    private const uint ETHTOOL_GGRO = 0x2b;
    private const uint ETHTOOL_SGRO = 0x2c;
    private const uint ETH_FLAG_LRO = 0x8000;
    private const int IFNAMSIZ = 16;

    /// <summary>struct ifreq: the name and, for SIOCETHTOOL, a pointer to the ethtool command (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct IfReq
    {
        public fixed byte Name[IFNAMSIZ];
        public void* Data;
    }

    /// <summary>struct ethtool_value.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct EthtoolValue
    {
        public uint Cmd;
        public uint Data;
    }

    public static int IfIndex(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        uint index = Interop.Libc.if_nametoindex(name);
        if (index == 0)
        {
            throw new NetDeviceException($"if_nametoindex({name}): no interface '{name}' in this network namespace ({Errno.Describe(Marshal.GetLastPInvokeError())})", Marshal.GetLastPInvokeError());
        }
        return (int)index;
    }

    internal static bool TryGetName(int ifindex, out string? name)
    {
        byte* buffer = stackalloc byte[IFNAMSIZ];
        name = Interop.Libc.if_indextoname((uint)ifindex, buffer) is null
            ? null
            : Marshal.PtrToStringUTF8((nint)buffer);
        return name is not null;
    }

    /// <summary>Whether generic receive offload is on.</summary>
    public static bool GetGro(string ifname) => Ethtool(ifname, ETHTOOL_GGRO, 0, "ETHTOOL_GGRO")!.Value != 0;

    public static void SetGro(string ifname, bool on) => Ethtool(ifname, ETHTOOL_SGRO, on ? 1u : 0u, "ETHTOOL_SGRO");

    /// <summary>Whether large receive offload is on; null if the device cannot report it.</summary>
    public static bool? GetLro(string ifname)
    {
        uint? flags = Ethtool(ifname, ETHTOOL_GFLAGS, 0, "ETHTOOL_GFLAGS", tolerateUnsupported: true);
        return flags is null ? null : (flags.Value & ETH_FLAG_LRO) != 0;
    }

    /// <returns>false if the device cannot change LRO (e.g. fixed off); true once it is set.</returns>
    public static bool SetLro(string ifname, bool on)
    {
        uint? flags = Ethtool(ifname, ETHTOOL_GFLAGS, 0, "ETHTOOL_GFLAGS", tolerateUnsupported: true);
        if (flags is null)
        {
            return false;
        }
        uint wanted = on ? flags.Value | ETH_FLAG_LRO : flags.Value & ~ETH_FLAG_LRO;
        return Ethtool(ifname, ETHTOOL_SFLAGS, wanted, "ETHTOOL_SFLAGS", tolerateUnsupported: true) is not null;
    }

    /// <summary>The interface's MAC address (SIOCGIFHWADDR).</summary>
    public static byte[] HardwareAddress(string ifname)
    {
        var request = Request(ifname);
        int errno = Ioctl(ifname, SIOCGIFHWADDR, &request, "SIOCGIFHWADDR");
        if (errno != 0)
        {
            throw new NetDeviceException($"ioctl(SIOCGIFHWADDR, {ifname}): {Errno.Describe(errno)}", errno);
        }
        // ifr_hwaddr is a struct sockaddr in the union: sa_family (2 bytes), then the address.
        return new ReadOnlySpan<byte>((byte*)&request + IFNAMSIZ + 2, 6).ToArray();
    }

    /// <returns>ethtool_value.data after the call; null for EOPNOTSUPP when tolerated.</returns>
    private static uint? Ethtool(string ifname, uint cmd, uint data, string cmdName, bool tolerateUnsupported = false)
    {
        var value = new EthtoolValue { Cmd = cmd, Data = data };
        var request = Request(ifname);
        request.Data = &value;
        int errno = Ioctl(ifname, SIOCETHTOOL, &request, cmdName);
        if (errno == 0)
        {
            return value.Data;
        }
        // EINVAL as well: ETHTOOL_SFLAGS answers it for a flag the device cannot change.
        if (tolerateUnsupported && errno is Errno.EOPNOTSUPP or Errno.EINVAL)
        {
            return null;
        }
        throw new NetDeviceException($"ioctl(SIOCETHTOOL, {cmdName}, {ifname}): {Errno.Describe(errno)}", errno);
    }

    private static IfReq Request(string ifname)
    {
        byte[] nameBytes = System.Text.Encoding.UTF8.GetBytes(ifname);
        if (nameBytes.Length >= IFNAMSIZ)
        {
            throw new ArgumentException($"interface name '{ifname}' is longer than {IFNAMSIZ - 1} bytes", nameof(ifname));
        }
        var request = new IfReq();
        nameBytes.CopyTo(new Span<byte>(request.Name, IFNAMSIZ));
        return request;
    }

    /// <summary>An interface ioctl on a throwaway socket (it acts in the calling thread's netns).</summary>
    /// <returns>0, or the errno.</returns>
    private static int Ioctl(string ifname, nuint request, IfReq* ifreq, string what)
    {
        int socketFd = Interop.Libc.socket(Interop.Libc.AF_INET, Interop.Libc.SOCK_DGRAM | Interop.Libc.SOCK_CLOEXEC, 0);
        if (socketFd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"socket(AF_INET, SOCK_DGRAM) for {what}({ifname})");
        }
        using var socket = new SafeFileDescriptorHandle(socketFd);
        return Interop.Libc.ioctl(socket.Fd, request, ifreq) < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>
    /// The interface's first IPv4 address and first global IPv6 address (no link-local), null where it
    /// has none or does not exist: the source of the ICMP errors the egress sends (tc_tx's too-big
    /// rule), as a router answers from the interface the packet would have left by.
    /// </summary>
    public static (System.Net.IPAddress? V4, System.Net.IPAddress? V6) Addresses(string? ifname)
    {
        var nic = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .FirstOrDefault(n => n.Name == ifname);
        if (nic is null)
            return (null, null);
        var addresses = nic.GetIPProperties().UnicastAddresses.Select(u => u.Address).ToList();
        return (addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 &&
                !a.IsIPv6LinkLocal && !a.IsIPv6Multicast && !System.Net.IPAddress.IsLoopback(a)));
    }
}
