using System.Runtime.InteropServices;

namespace SfcProxy;

// In the root namespace: the loader and the network device calls (Net) both own descriptors.
/// <summary>A kernel file descriptor we own (map, program or link fd, socket); closed on release.</summary>
internal sealed class SafeFileDescriptorHandle : SafeHandle
{
    public SafeFileDescriptorHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public SafeFileDescriptorHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    // fd 0 is a valid descriptor, so only negative values are invalid.
    public override bool IsInvalid => (int)handle < 0;

    /// <summary>The descriptor number; valid only while the handle is open.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Libc.close((int)handle) == 0;
}
