using System.Runtime.InteropServices;

// libc calls of the control socket: who is on the other end, and which group may connect.
internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        internal const int SOL_SOCKET = 1;
        internal const int SO_PEERCRED = 17;

        /// <summary>struct ucred: the peer's credentials when it called connect().</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct UCred
        {
            public int Pid;
            public uint Uid;
            public uint Gid;
        }

        /// <summary>The start of struct group; only gr_gid is read.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Group
        {
            public byte* Name;
            public byte* Password;
            public uint Gid;
        }

        [LibraryImport(Library, SetLastError = true)]
        internal static partial int getsockopt(int fd, int level, int optname, void* optval, uint* optlen);

        /// <returns>null with errno 0 when there is no such group.</returns>
        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial Group* getgrnam(string name);

        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int chown(string path, uint owner, uint group);
    }
}
