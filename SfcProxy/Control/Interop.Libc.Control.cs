using System.Runtime.InteropServices;

// libc calls of the control socket: which group may connect.
internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        /// <summary>The start of struct group; only gr_gid is read.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Group
        {
            public byte* Name;
            public byte* Password;
            public uint Gid;
        }

        /// <returns>null with errno 0 when there is no such group.</returns>
        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial Group* getgrnam(string name);

        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int chown(string path, uint owner, uint group);
    }
}
