using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static unsafe partial class Libc
    {
        /// <summary>CLOCK_MONOTONIC: the clock bpf_ktime_get_ns() reads (ktime_get_mono_fast_ns).</summary>
        internal const int CLOCK_MONOTONIC = 1;

        [StructLayout(LayoutKind.Sequential)]
        internal struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [LibraryImport(Library, SetLastError = true)]
        internal static partial int clock_gettime(int clockId, Timespec* time);
    }
}
