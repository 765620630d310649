using System.Runtime.InteropServices;

namespace SfcProxy.Bpf;

/// <summary>Unmanaged memory handed to libbpf for longer than one call (the verifier log buffer).</summary>
internal sealed unsafe class SafeNativeMemoryHandle : SafeHandle
{
    public SafeNativeMemoryHandle(int size)
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
        // malloc of a large block is mmap-backed, so pages the kernel never writes cost nothing.
        SetHandle((nint)NativeMemory.Alloc((nuint)size));
        Size = size;
        *(byte*)handle = 0;
    }

    public int Size { get; }

    public override bool IsInvalid => handle == 0;

    public byte* Pointer => (byte*)handle;

    protected override bool ReleaseHandle()
    {
        NativeMemory.Free((void*)handle);
        return true;
    }
}
