using System.Runtime.InteropServices;

// libbpf's print callback: int (*)(enum libbpf_print_level, const char *fmt, va_list ap).
internal static partial class Interop
{
    internal static unsafe partial class LibBpf
    {
        [LibraryImport(Library)]
        internal static partial nint libbpf_set_print(delegate* unmanaged<int, byte*, nint, int> callback);

        /// <summary>Restores a callback libbpf_set_print returned earlier.</summary>
        [LibraryImport(Library, EntryPoint = "libbpf_set_print")]
        internal static partial nint libbpf_restore_print(nint callback);
    }

    internal static unsafe partial class Libc
    {
        // On x86_64 and arm64 Linux a va_list argument arrives as a pointer (an array type on
        // x86_64, a by-reference struct on arm64), so it can be handed on to vsnprintf as is.
        [LibraryImport(Library)]
        internal static partial int vsnprintf(byte* buffer, nuint size, byte* format, nint args);
    }
}
