namespace SfcProxy.Bpf;

/// <summary>
/// An attached program. Disposing detaches it unless it was pinned: a pinned link stays attached
/// after this process exits (that is how the daemon restarts without dropping traffic) until its
/// pin is removed with <see cref="Unpin"/> and the last fd is closed.
/// </summary>
public abstract class BpfLink : IDisposable
{
    private protected BpfLink(string description)
    {
        Description = description;
    }

    /// <summary>What is attached where, e.g. "xdp_rx.bpf.o/xdp_rx -> xdp native on eth1 (ifindex 3)".</summary>
    public string Description { get; }

    /// <summary>Where the link is pinned on bpffs, or null.</summary>
    public string? PinPath { get; private protected set; }

    /// <summary>Reopens a link pinned by this or an earlier process.</summary>
    public static BpfLink OpenPinned(string path) => KernelLink.OpenPinned(path);

    /// <summary>Pins the link on bpffs so it outlives this process.</summary>
    public abstract void Pin(string path);

    /// <summary>Removes the pin; the link then detaches when disposed.</summary>
    public abstract void Unpin();

    /// <summary>Atomically replaces the attached program; no packet sees neither. Maps are untouched.</summary>
    public abstract void Update(BpfProgram program);

    /// <summary>
    /// Like <see cref="Update"/>, keeping the program that ran until now alive so the swap can be
    /// undone: what a daemon taking pinned links over does, since its start may still fail.
    /// </summary>
    public abstract ProgramSwap Swap(BpfProgram program);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);

    public override string ToString() => Description;
}
