using System.Runtime.InteropServices;

// libc calls for the daemon's own files: the instance lock on the pin directory, looking at a
// path without following a symlink planted there, and syncing a directory after a rename.
internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        internal const int O_RDONLY = 0;
        internal const int O_DIRECTORY = 0x10000;
        internal const int O_NOFOLLOW = 0x20000;
        internal const int O_CLOEXEC = 0x80000;

        internal const int LOCK_EX = 2;
        internal const int LOCK_NB = 4;

        internal const int AT_FDCWD = -100;
        internal const int AT_SYMLINK_NOFOLLOW = 0x100;
        internal const int AT_EMPTY_PATH = 0x1000;
        internal const uint STATX_BASIC_STATS = 0x7ff;

        /// <summary>struct statx: the same layout on every architecture (unlike struct stat).</summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct Statx
        {
            [FieldOffset(20)] public uint Uid;
            [FieldOffset(24)] public uint Gid;
            [FieldOffset(28)] public ushort Mode;
            [FieldOffset(32)] public ulong Ino;
            [FieldOffset(136)] public uint DevMajor;
            [FieldOffset(140)] public uint DevMinor;
        }

        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int open(string path, int flags, uint mode);

        [LibraryImport(Library, SetLastError = true)]
        internal static partial int flock(int fd, int operation);

        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int statx(int dirfd, string path, int flags, uint mask, Statx* buffer);

        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int mkdir(string path, uint mode);

        /// <summary>Makes a directory's entries durable (after a rename into it: the state files).</summary>
        [LibraryImport(Library, SetLastError = true)]
        internal static partial int fsync(int fd);
    }
}
