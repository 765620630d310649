namespace SfcProxy.Bpf;

/// <summary>Result of one BPF_PROG_TEST_RUN.</summary>
/// <param name="ReturnValue">The program's verdict (XDP_PASS = 2, TC_ACT_OK = 0, ...).</param>
/// <param name="Data">The packet as the program left it.</param>
/// <param name="Context">ctx_out (xdp_md or __sk_buff) if asked for, else empty.</param>
/// <param name="DurationNs">Average run time per repetition.</param>
public readonly record struct TestRunResult(uint ReturnValue, byte[] Data, byte[] Context, uint DurationNs);

/// <summary>A loaded program of a <see cref="BpfObject"/>; valid while the object is.</summary>
public sealed unsafe class BpfProgram
{
    private const uint XDP_FLAGS_SKB_MODE = 1u << 1;
    private const uint XDP_FLAGS_DRV_MODE = 1u << 2;
    // Room for headers the program pushes when the caller does not size data_out.
    private const int DefaultHeadroom = 512;

    internal BpfProgram(string name, string subject, BorrowedFd fd)
    {
        Name = name;
        Subject = subject;
        Fd = fd;
    }

    public string Name { get; }

    /// <summary>"object.bpf.o/program", for messages.</summary>
    internal string Subject { get; }

    internal BorrowedFd Fd { get; }

    /// <summary>Runs the program once (or <paramref name="repeat"/> times) on a packet in the kernel.</summary>
    /// <param name="contextIn">xdp_md / __sk_buff to start from; empty for the kernel's default.</param>
    /// <param name="contextOutSize">Bytes of ctx_out to return; 0 for none.</param>
    /// <param name="dataOutCapacity">Room for the output packet; 0 = packet length + 512.</param>
    public TestRunResult TestRun(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> contextIn = default,
        int contextOutSize = 0, int repeat = 1, int dataOutCapacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contextOutSize);
        ArgumentOutOfRangeException.ThrowIfNegative(dataOutCapacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        byte[] dataOut = new byte[dataOutCapacity == 0 ? packet.Length + DefaultHeadroom : dataOutCapacity];
        byte[] contextOut = new byte[contextOutSize];

        using BorrowedFd.FdLease fd = Fd.Lease();
        fixed (byte* dataIn = packet)
        fixed (byte* dataOutPtr = dataOut)
        fixed (byte* ctxIn = contextIn)
        fixed (byte* ctxOut = contextOut)
        {
            var opts = new Interop.LibBpf.TestRunOptions
            {
                DataIn = dataIn,
                DataSizeIn = (uint)packet.Length,
                DataOut = dataOutPtr,
                DataSizeOut = (uint)dataOut.Length,
                ContextIn = contextIn.IsEmpty ? null : ctxIn,
                ContextSizeIn = (uint)contextIn.Length,
                ContextOut = contextOutSize == 0 ? null : ctxOut,
                ContextSizeOut = (uint)contextOutSize,
                Repeat = repeat,
            };
            Interop.LibBpf.ProgramTestRun(fd.Fd, Subject, ref opts);
            return new TestRunResult(opts.ReturnValue, dataOut[..(int)opts.DataSizeOut],
                contextOut[..(int)opts.ContextSizeOut], opts.Duration);
        }
    }

    /// <summary>Attaches as an XDP bpf_link; the program stays attached while the link (or its pin) lives.</summary>
    public BpfLink AttachXdp(int ifindex, XdpAttachMode mode)
    {
        uint flags = mode == XdpAttachMode.Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
        string description = $"{Subject} -> xdp {mode.ToString().ToLowerInvariant()} on {InterfaceName(ifindex)}";
        using BorrowedFd.FdLease fd = Fd.Lease();
        return new KernelLink(Interop.LibBpf.LinkCreate(fd.Fd, ifindex, Interop.LibBpf.BPF_XDP, flags, description), description);
    }

    /// <summary>
    /// Attaches to a tc hook: a tcx bpf_link where the kernel has tcx (6.6+), otherwise a
    /// direct-action filter on a clsact qdisc (created if missing, removed only if we created it).
    /// </summary>
    public BpfLink AttachTc(int ifindex, TcDirection direction)
    {
        string description = $"{Subject} -> tc {direction.ToString().ToLowerInvariant()} on {InterfaceName(ifindex)}";
        uint attachType = direction == TcDirection.Ingress ? Interop.LibBpf.BPF_TCX_INGRESS : Interop.LibBpf.BPF_TCX_EGRESS;
        try
        {
            using BorrowedFd.FdLease fd = Fd.Lease();
            return new KernelLink(Interop.LibBpf.LinkCreate(fd.Fd, ifindex, attachType, 0, description), description);
        }
        catch (BpfException e) when (e.Errno == Errno.EINVAL)
        {
            // Kernels before 6.6 do not know the tcx attach types and answer EINVAL.
            return AttachClsact(ifindex, direction);
        }
    }

    /// <summary>The pre-tcx way: clsact qdisc + bpf_tc_attach. Internal so tests can exercise it on tcx kernels.</summary>
    internal BpfLink AttachClsact(int ifindex, TcDirection direction)
    {
        string description = $"{Subject} -> clsact {direction.ToString().ToLowerInvariant()} on {InterfaceName(ifindex)}";
        return TcFilterLink.Attach(this, ifindex, direction, description);
    }

    private static string InterfaceName(int ifindex) =>
        SfcProxy.Net.NetDevice.TryGetName(ifindex, out string? name) ? $"{name} (ifindex {ifindex})" : $"ifindex {ifindex}";
}
