using System.Runtime.InteropServices;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// Runs code on one CPU. BPF_PROG_TEST_RUN runs XDP and tc programs on the calling thread's CPU
/// (it has no CPU option for them), and the metadata cache keeps one ring of slots per CPU, so
/// tests that count slots or move a packet from one CPU to another pin the calling thread.
/// </summary>
internal static partial class CpuAffinity
{
    /// <summary>Bytes of a cpu_set_t: 1024 CPUs, as glibc's.</summary>
    private const int SetBytes = 128;

    /// <summary>Runs <paramref name="action"/> on CPU <paramref name="cpu"/>, then restores the thread's mask.</summary>
    public static T On<T>(int cpu, Func<T> action)
    {
        var saved = new byte[SetBytes];
        Check(sched_getaffinity(0, SetBytes, saved), "sched_getaffinity");
        var one = new byte[SetBytes];
        one[cpu / 8] = (byte)(1 << (cpu % 8));
        Check(sched_setaffinity(0, SetBytes, one), $"sched_setaffinity(cpu {cpu})");
        try
        {
            return action();
        }
        finally
        {
            Check(sched_setaffinity(0, SetBytes, saved), "sched_setaffinity(restore)");
        }
    }

    public static void On(int cpu, Action action) => On(cpu, () => { action(); return 0; });

    /// <summary>CPUs this process may run on (at least the two the cross-CPU tests need, on this machine).</summary>
    public static int Online => Environment.ProcessorCount;

    private static void Check(int rc, string call)
    {
        if (rc != 0)
            Assert.Fail($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nint size, byte[] mask);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_getaffinity(int pid, nint size, byte[] mask);
}
