namespace SfcProxy.Bpf;

/// <summary>
/// Holds back from the calling thread, for the length of a BPF load, the signals a daemon takes
/// without stopping: SIGHUP (reload), SIGCHLD, SIGWINCH, SIGCONT. The verifier gives up with EAGAIN
/// when a signal is pending for the loading thread and libbpf retries only a few times, so a burst
/// of SIGHUPs during start-up would fail the load. Blocked here, the kernel hands them to another
/// thread of the process, where the runtime handles them as usual; nothing is lost. SIGINT and
/// SIGTERM still interrupt a load: the daemon is stopping then anyway.
/// </summary>
internal readonly unsafe struct LoadSignalGuard : IDisposable
{
    private static readonly int[] HeldBack = [1 /* SIGHUP */, 17 /* SIGCHLD */, 18 /* SIGCONT */, 28 /* SIGWINCH */];
    private readonly byte[]? _previous;

    private LoadSignalGuard(byte[] previous) => _previous = previous;

    public static LoadSignalGuard Enter()
    {
        var set = stackalloc byte[Interop.Libc.SigSetBytes];
        new Span<byte>(set, Interop.Libc.SigSetBytes).Clear();
        foreach (var signal in HeldBack)
            set[(signal - 1) / 8] |= (byte)(1 << ((signal - 1) % 8));
        var previous = new byte[Interop.Libc.SigSetBytes];
        fixed (byte* old = previous)
        {
            // Cannot fail with valid arguments; if it did, the load would only be as before.
            return Interop.Libc.pthread_sigmask(Interop.Libc.SIG_BLOCK, set, old) == 0 ? new LoadSignalGuard(previous) : default;
        }
    }

    public void Dispose()
    {
        if (_previous is null)
            return;
        fixed (byte* old = _previous)
            Interop.Libc.pthread_sigmask(Interop.Libc.SIG_SETMASK, old, null);
    }
}
