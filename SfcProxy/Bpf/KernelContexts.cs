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
    [FieldOffset(164)] public uint GsoSegs;
    [FieldOffset(176)] public uint GsoSize;
}
