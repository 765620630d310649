namespace SfcProxy.Bpf;

/// <summary>
/// A kernel bpf_link (XDP or tcx) held as an fd. The kernel detaches it when the last reference
/// goes: our fd, a pin, or another process's fd.
/// </summary>
internal sealed class KernelLink : BpfLink
{
    private readonly SafeFileDescriptorHandle _fd;

    public KernelLink(SafeFileDescriptorHandle fd, string description, string? pinPath = null)
        : base(description)
    {
        _fd = fd;
        PinPath = pinPath;
    }

    public static new KernelLink OpenPinned(string path) => new(Interop.LibBpf.ObjGet(path), $"link pinned at {path}", path);

    public override void Pin(string path)
    {
        if (PinPath is not null)
        {
            throw new InvalidOperationException($"{Description}: already pinned at {PinPath}");
        }
        Interop.LibBpf.ObjPin(_fd.Fd, Description, path);
        PinPath = path;
    }

    public override void Unpin()
    {
        if (PinPath is null)
        {
            return;
        }
        // A pin is a bpffs file; unlinking it drops the pin's reference (libbpf's bpf_link__unpin does the same).
        File.Delete(PinPath);
        PinPath = null;
    }

    public override void Update(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        using BorrowedFd.FdLease prog = program.Fd.Lease();
        Interop.LibBpf.LinkUpdate(_fd.Fd, prog.Fd, $"{Description} <- {program.Subject}");
    }

    public override ProgramSwap Swap(BpfProgram program)
    {
        var earlier = Interop.LibBpf.LinkProgram(_fd.Fd, Description);
        try
        {
            Update(program);
        }
        catch
        {
            earlier.Dispose();
            throw;
        }
        return new ProgramSwap(earlier, () => Interop.LibBpf.LinkUpdate(_fd.Fd, earlier.Fd, $"{Description} <- its earlier program"));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fd.Dispose();
        }
    }
}
