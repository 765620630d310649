using System.Runtime.InteropServices;

// membarrier(2) has no glibc wrapper: it is called through syscall(2). syscall is variadic in C;
// on x86_64 and arm64 Linux variadic integer arguments are passed like fixed ones, so a
// fixed-signature import is safe there.
internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>MEMBARRIER_CMD_GLOBAL: returns after synchronize_rcu() (more than one CPU online).</summary>
        internal const int MEMBARRIER_CMD_GLOBAL = 1;

        [LibraryImport(Library, SetLastError = true)]
        private static partial long syscall(long number, long cmd, long flags, long cpuId);

        private static long MembarrierSyscallNumber => RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 324,
            Architecture.Arm64 => 283,
            _ => -1,
        };

        /// <returns>0, or the errno (ENOSYS where the architecture or kernel lacks it).</returns>
        internal static int Membarrier(int cmd)
        {
            long number = MembarrierSyscallNumber;
            if (number < 0)
            {
                return SfcProxy.Errno.ENOSYS;
            }
            return syscall(number, cmd, 0, 0) < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
    }
}
