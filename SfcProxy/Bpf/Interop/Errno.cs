using System.Runtime.InteropServices;

namespace SfcProxy;

// In the root namespace: the loader and the network device calls (Net) both describe errnos.
/// <summary>Linux errno values the loader reacts to, and their symbolic names for messages.</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EBADF = 9;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EEXIST = 17;
    public const int ENOSYS = 38;
    public const int EOPNOTSUPP = 95;
    // Kernel-internal ENOTSUPP: leaks out of some bpf() paths; strerror does not know it.
    public const int ENOTSUPP = 524;

    private static readonly Dictionary<int, string> Names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [5] = "EIO", [6] = "ENXIO",
        [7] = "E2BIG", [8] = "ENOEXEC", [9] = "EBADF", [11] = "EAGAIN", [12] = "ENOMEM",
        [13] = "EACCES", [14] = "EFAULT", [16] = "EBUSY", [17] = "EEXIST", [19] = "ENODEV",
        [20] = "ENOTDIR", [21] = "EISDIR", [22] = "EINVAL", [24] = "EMFILE", [28] = "ENOSPC",
        [34] = "ERANGE", [38] = "ENOSYS", [40] = "ELOOP", [61] = "ENODATA", [71] = "EPROTO",
        [75] = "EOVERFLOW", [95] = "EOPNOTSUPP", [105] = "ENOBUFS", [524] = "ENOTSUPP",
        // libbpf's own error codes (libbpf.h enum libbpf_errno).
        [4000] = "LIBBPF_ERRNO__LIBELF", [4001] = "LIBBPF_ERRNO__FORMAT", [4002] = "LIBBPF_ERRNO__KVERSION",
        [4003] = "LIBBPF_ERRNO__ENDIAN", [4004] = "LIBBPF_ERRNO__INTERNAL", [4005] = "LIBBPF_ERRNO__RELOC",
        [4006] = "LIBBPF_ERRNO__LOAD", [4007] = "LIBBPF_ERRNO__VERIFY", [4008] = "LIBBPF_ERRNO__PROG2BIG",
        [4009] = "LIBBPF_ERRNO__KVER", [4010] = "LIBBPF_ERRNO__PROGTYPE", [4011] = "LIBBPF_ERRNO__WRNGPID",
        [4012] = "LIBBPF_ERRNO__INVSEQ", [4013] = "LIBBPF_ERRNO__NLPARSE",
    };

    /// <summary>"Operation not permitted (EPERM)".</summary>
    public static string Describe(int errno)
    {
        string text = errno == ENOTSUPP ? "Operation is not supported" : Marshal.GetPInvokeErrorMessage(errno);
        return Names.TryGetValue(errno, out string? name) ? $"{text} ({name})" : $"{text} (errno {errno})";
    }
}
