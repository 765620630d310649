using Microsoft.Win32.SafeHandles;

namespace SfcProxy.Bpf;

/// <summary>
/// A libbpf <c>struct bpf_object *</c>. Closing it unloads the object's programs and maps unless
/// something else holds them (a link, a pin, another fd).
/// </summary>
internal sealed class SafeBpfObjectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeBpfObjectHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        Interop.LibBpf.ObjectClose(handle);
        return true;
    }
}
