using System.Runtime.InteropServices;

namespace SfcProxy.Bpf;

/// <summary>
/// A program or map fd whose lifetime another handle governs (the bpf_object that created it, or
/// our own fd handle for pinned maps). Each use leases the owner so the fd cannot be closed, and
/// its number reused, in the middle of a call.
/// </summary>
internal sealed class BorrowedFd(SafeHandle owner, int fd, string subject)
{
    public FdLease Lease()
    {
        bool added = false;
        try
        {
            owner.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(subject, $"{subject}: the BPF object or pin it came from has been closed.");
        }
        return new FdLease(owner, fd);
    }

    /// <summary>Releases the owner when disposed; use with <c>using</c>.</summary>
    internal readonly ref struct FdLease(SafeHandle owner, int fd)
    {
        public int Fd { get; } = fd;

        public void Dispose() => owner.DangerousRelease();
    }
}
