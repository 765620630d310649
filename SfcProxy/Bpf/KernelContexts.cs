using System.Runtime.InteropServices;

namespace SfcProxy.Bpf;

// Program contexts as BPF_PROG_TEST_RUN takes them (ctx_in/ctx_out), from the kernel UAPI
// (linux/bpf.h). Only fields the test run lets a caller set or read back are named.

/// <summary>struct xdp_md.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct XdpContext
{
    /// <summary>Offset of the packet start: in ctx_out, the length of the XDP metadata.</summary>
    public uint Data;
    public uint DataEnd;
    public uint DataMeta;
    public uint IngressIfindex;
    public uint RxQueueIndex;
    public uint EgressIfindex;

    /// <summary>The ctx_in the kernel requires when ctx_out is wanted: data_end = packet length.</summary>
    public static XdpContext ForPacket(int length) => new() { DataEnd = (uint)length };
}

/// <summary>struct __sk_buff (192 bytes in the 6.x UAPI).</summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
public struct SkbContext
{
    [FieldOffset(8)] public uint Mark;
    [FieldOffset(32)] public uint Priority;
    /// <summary>The device the test run's skb is on (0: loopback), which bpf_check_mtu() and friends see.</summary>
    [FieldOffset(40)] public uint Ifindex;
    /// <summary>cb[0..4]: scratch words a tc program may write; a test run returns them in ctx_out.</summary>
    [FieldOffset(48)] public uint Cb0;
    [FieldOffset(52)] public uint Cb1;
    [FieldOffset(56)] public uint Cb2;
    [FieldOffset(60)] public uint Cb3;
    [FieldOffset(64)] public uint Cb4;
    [FieldOffset(164)] public uint GsoSegs;
    [FieldOffset(176)] public uint GsoSize;
}
