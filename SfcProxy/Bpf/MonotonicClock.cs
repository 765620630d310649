namespace SfcProxy.Bpf;

/// <summary>
/// The kernel's CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns(), so host-side ages
/// of timestamps written by BPF programs are computed on the same time base.
/// </summary>
public static unsafe class MonotonicClock
{
    /// <summary>clock_gettime(CLOCK_MONOTONIC) in nanoseconds.</summary>
    /// <exception cref="BpfException">clock_gettime failed (it does not on Linux with a valid clock id).</exception>
    public static ulong NowNs()
    {
        Interop.Libc.Timespec t;
        if (Interop.Libc.clock_gettime(Interop.Libc.CLOCK_MONOTONIC, &t) != 0)
        {
            throw BpfException.FromErrno("clock_gettime", "CLOCK_MONOTONIC", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
        return (ulong)t.Seconds * 1_000_000_000UL + (ulong)t.Nanoseconds;
    }
}
