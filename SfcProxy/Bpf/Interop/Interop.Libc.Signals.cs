using System.Runtime.InteropServices;

// The calling thread's signal mask, to hold signals back from a thread inside a BPF load.
internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        internal const int SIG_BLOCK = 0;
        internal const int SIG_SETMASK = 2;

        /// <summary>glibc's sigset_t: 1024 bits.</summary>
        internal const int SigSetBytes = 128;

        /// <returns>0, or the error number (not -1/errno).</returns>
        [LibraryImport(Library)]
        internal static partial int pthread_sigmask(int how, byte* set, byte* oldSet);
    }
}
