namespace SfcProxy.Bpf;

/// <summary>
/// A direct-action tc filter on a clsact qdisc, for kernels without tcx. Not a kernel link: it
/// cannot be pinned, and it has no finalizer (netlink from the finalizer thread could throw and
/// kill the process): it stays attached until disposed or until the interface goes away.
/// </summary>
internal sealed class TcFilterLink : BpfLink
{
    private readonly int _ifindex;
    private readonly Interop.LibBpf.TcHook _hook;
    private readonly uint _handle;
    private readonly uint _priority;
    private bool _attached;

    private TcFilterLink(int ifindex, Interop.LibBpf.TcHook hook, uint handle, uint priority, string description)
        : base(description)
    {
        _ifindex = ifindex;
        _hook = hook;
        _handle = handle;
        _priority = priority;
        _attached = true;
    }

    public static TcFilterLink Attach(BpfProgram program, int ifindex, TcDirection direction, string description)
    {
        var hook = Interop.LibBpf.NewTcHook(ifindex,
            direction == TcDirection.Ingress ? Interop.LibBpf.BPF_TC_INGRESS : Interop.LibBpf.BPF_TC_EGRESS);
        ClsactQdiscs.Acquire(ifindex, hook, description);
        try
        {
            using BorrowedFd.FdLease fd = program.Fd.Lease();
            (uint handle, uint priority) = Interop.LibBpf.TcAttach(hook, fd.Fd, handle: 0, priority: 0, replace: false, description);
            return new TcFilterLink(ifindex, hook, handle, priority, description);
        }
        catch
        {
            ClsactQdiscs.Release(ifindex, description);
            throw;
        }
    }

    public override void Pin(string path) =>
        throw new NotSupportedException($"{Description}: a clsact filter cannot be pinned (the kernel has no tcx)");

    public override void Unpin()
    {
    }

    public override void Update(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        using BorrowedFd.FdLease fd = program.Fd.Lease();
        // BPF_TC_F_REPLACE on the same handle and priority swaps the program in one netlink request.
        Interop.LibBpf.TcAttach(_hook, fd.Fd, _handle, _priority, replace: true, $"{Description} <- {program.Subject}");
    }

    /// <summary>A clsact filter is never pinned, so never taken over: there is no earlier program to keep.</summary>
    public override ProgramSwap Swap(BpfProgram program) =>
        throw new NotSupportedException($"{Description}: a clsact filter is not taken over (it cannot be pinned)");

    protected override void Dispose(bool disposing)
    {
        if (!_attached)
        {
            return;
        }
        _attached = false;
        Interop.LibBpf.TcDetach(_hook, _handle, _priority, Description);
        ClsactQdiscs.Release(_ifindex, Description);
    }
}
