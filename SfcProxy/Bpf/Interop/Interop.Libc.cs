using System.Runtime.InteropServices;

// libc calls the loader and NetDevice need. They return -1 and set errno on failure.
internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        private const string Library = "libc";

        internal const int AF_INET = 2;
        internal const int SOCK_DGRAM = 2;
        internal const int SOCK_CLOEXEC = 0x80000;

        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial uint if_nametoindex(string name);

        /// <returns>null if no interface has that index.</returns>
        [LibraryImport(Library, SetLastError = true)]
        internal static partial byte* if_indextoname(uint ifindex, byte* name);

        [LibraryImport(Library, SetLastError = true)]
        internal static partial int close(int fd);

        [LibraryImport(Library)]
        internal static partial uint geteuid();

        // struct statfs is 120 bytes on 64-bit Linux; f_type (a long) comes first.
        [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int statfs(string path, byte* buffer);

        [LibraryImport(Library, SetLastError = true)]
        internal static partial int socket(int domain, int type, int protocol);

        // ioctl is variadic in C; on x86_64 and arm64 Linux a variadic pointer argument is passed
        // like a fixed one, so a fixed-signature import is safe there.
        [LibraryImport(Library, SetLastError = true)]
        internal static partial int ioctl(int fd, nuint request, void* argument);
    }
}
