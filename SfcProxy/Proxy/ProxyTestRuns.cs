using System.Runtime.InteropServices;
using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>What xdp_rx did with one frame under BPF_PROG_TEST_RUN.</summary>
/// <param name="Verdict">XDP action (XDP_DROP 1, XDP_PASS 2, XDP_REDIRECT 4).</param>
/// <param name="Frame">The frame as it leaves, without the metadata in front of it.</param>
/// <param name="MetaKey">The cache key left in the XDP metadata (metadata key mode), if any.</param>
internal readonly record struct RxRun(uint Verdict, byte[] Frame, uint? MetaKey, uint DurationNs);

/// <summary>What tc_tx did with one frame under BPF_PROG_TEST_RUN.</summary>
/// <param name="Verdict">tc action (TC_ACT_OK 0, TC_ACT_SHOT 2).</param>
internal readonly record struct TxRun(uint Verdict, byte[] Frame, uint Mark, uint DurationNs);

/// <summary>
/// Runs frames through the loaded proxy programs in the kernel (BPF_PROG_TEST_RUN), the way the
/// tests and the benchmark drive the datapath without a network.
/// </summary>
internal static class ProxyTestRuns
{
    public const uint XdpDrop = 1, XdpPass = 2, XdpRedirect = 4;
    public const uint TcOk = 0, TcShot = 2;

    public static RxRun RunRx(this ProxyObjects proxy, byte[] frame) => RunXdp(proxy.Rx, frame);

    /// <summary>Runs any XDP program, splitting the metadata it left off the frame.</summary>
    public static RxRun RunXdp(BpfProgram program, byte[] frame)
    {
        var ctx = XdpContext.ForPacket(frame.Length);
        var r = program.TestRun(frame, AsBytes(ref ctx), Marshal.SizeOf<XdpContext>());
        var ctxOut = MemoryMarshal.Read<XdpContext>(r.Context);
        // data_out holds the metadata followed by the packet; ctx_out.data is the metadata length.
        var metaLength = (int)ctxOut.Data;
        uint? key = null;
        if (metaLength >= Marshal.SizeOf<SfcXdpMeta>())
        {
            var meta = MemoryMarshal.Read<SfcXdpMeta>(r.Data.AsSpan(metaLength - Marshal.SizeOf<SfcXdpMeta>()));
            if (meta.Magic == SfcLimits.MetaMagic)
                key = meta.Key;
        }
        return new RxRun(r.ReturnValue, r.Data[metaLength..], key, r.DurationNs);
    }

    /// <summary>Runs tc_tx as the egress would see the VNF's frame, with the skb mark and GSO size given.</summary>
    public static TxRun RunTx(this ProxyObjects proxy, byte[] frame, uint mark = 0, uint gsoSize = 0) =>
        RunTc(proxy.Tx, frame, mark, gsoSize);

    /// <summary>Runs tc_tx with the skb on device <paramref name="ifindex"/> of the calling thread's network
    /// namespace (its MTU is the one tc_tx checks), rather than loopback.</summary>
    public static TxRun RunTxOn(this ProxyObjects proxy, byte[] frame, int ifindex, uint mark = 0) =>
        RunTc(proxy.Tx, frame, mark, 0, (uint)ifindex);

    public static TxRun RunTc(BpfProgram program, byte[] frame, uint mark = 0, uint gsoSize = 0, uint ifindex = 0)
    {
        var ctx = new SkbContext { Mark = mark, GsoSize = gsoSize, GsoSegs = gsoSize == 0 ? 0u : 2u, Ifindex = ifindex };
        var r = program.TestRun(frame, AsBytes(ref ctx), Marshal.SizeOf<SkbContext>());
        var ctxOut = MemoryMarshal.Read<SkbContext>(r.Context);
        return new TxRun(r.ReturnValue, r.Data, ctxOut.Mark, r.DurationNs);
    }

    private static ReadOnlySpan<byte> AsBytes<T>(ref T value) where T : unmanaged =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref value, 1));
}
