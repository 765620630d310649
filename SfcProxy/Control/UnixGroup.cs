using System.Runtime.InteropServices;

namespace SfcProxy.Control;

/// <summary>Looking up a group by name (for the control socket's group).</summary>
internal static class UnixGroup
{
    /// <summary>
    /// The group's id, or null if there is no such group. getgrnam is not reentrant; it is only
    /// called while validating options and creating the socket, never from two threads at once.
    /// </summary>
    public static unsafe uint? IdOf(string name)
    {
        Marshal.SetLastPInvokeError(0);
        Interop.Libc.Group* group = Interop.Libc.getgrnam(name);
        return group is null ? null : group->Gid;
    }

    /// <summary>Gives <paramref name="path"/> to <paramref name="gid"/>, keeping its owner.</summary>
    public static void Chown(string path, uint gid)
    {
        if (Interop.Libc.chown(path, uint.MaxValue, gid) != 0)
            throw new IOException($"chown {path} to group {gid}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
