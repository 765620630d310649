namespace SfcProxy.Bpf;

/// <summary>
/// Waits until every BPF program run that started before the call has finished. XDP and tc
/// programs run inside RCU read-side sections, so an RCU grace period is that wait;
/// membarrier(MEMBARRIER_CMD_GLOBAL) is the one system call that waits for one
/// (synchronize_rcu()). Used after swapping a map-in-map slot, before reusing the old one.
/// </summary>
public static class RcuGracePeriod
{
    /// <summary>
    /// Where membarrier cannot (EINVAL with nohz_full CPUs, ENOSYS): a program run lasts
    /// microseconds, so this much sleep is a wide margin, though not a guarantee.
    /// </summary>
    public static readonly TimeSpan Fallback = TimeSpan.FromMilliseconds(50);

    public static void Wait()
    {
        if (Interop.Libc.Membarrier(Interop.Libc.MEMBARRIER_CMD_GLOBAL) != 0)
        {
            Thread.Sleep(Fallback);
        }
    }
}
