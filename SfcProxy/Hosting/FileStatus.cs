using System.Runtime.InteropServices;

namespace SfcProxy.Hosting;

/// <summary>What a path is, read with statx without following a final symlink (lstat), so the
/// daemon can tell its own socket or note from something planted at the path.</summary>
internal readonly record struct FileStatus(UnixFileKind Kind, ulong Device, ulong Inode, uint Uid)
{
    /// <summary>The path's status, or null when nothing is there.</summary>
    /// <exception cref="IOException">statx failed for another reason than a missing path.</exception>
    public static unsafe FileStatus? Of(string path)
    {
        Interop.Libc.Statx st;
        if (Interop.Libc.statx(Interop.Libc.AT_FDCWD, path, Interop.Libc.AT_SYMLINK_NOFOLLOW, Interop.Libc.STATX_BASIC_STATS, &st) == 0)
            return From(st);
        int errno = Marshal.GetLastPInvokeError();
        if (errno is 2 or 20) // ENOENT, ENOTDIR
            return null;
        throw new IOException($"statx {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    /// <summary>The status of an open descriptor (fstat).</summary>
    public static unsafe FileStatus Of(SafeHandle fd, string what)
    {
        Interop.Libc.Statx st;
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            if (Interop.Libc.statx((int)fd.DangerousGetHandle(), "", Interop.Libc.AT_EMPTY_PATH, Interop.Libc.STATX_BASIC_STATS, &st) != 0)
                throw new IOException($"statx {what}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            return From(st);
        }
        finally
        {
            if (added)
                fd.DangerousRelease();
        }
    }

    /// <summary>Same file: same device and inode.</summary>
    public bool IsSameFile(FileStatus other) => Device == other.Device && Inode == other.Inode;

    private static FileStatus From(in Interop.Libc.Statx st) =>
        new((UnixFileKind)(st.Mode & 0xF000), ((ulong)st.DevMajor << 32) | st.DevMinor, st.Ino, st.Uid);
}

/// <summary>The file type bits of st_mode.</summary>
internal enum UnixFileKind
{
    Socket = 0xC000,
    Symlink = 0xA000,
    Regular = 0x8000,
    Directory = 0x4000,
}

internal static class UnixFileKindNames
{
    public static string Describe(this UnixFileKind kind) => kind switch
    {
        UnixFileKind.Socket => "a socket",
        UnixFileKind.Symlink => "a symlink",
        UnixFileKind.Regular => "a regular file",
        UnixFileKind.Directory => "a directory",
        _ => "a special file",
    };
}
