namespace SfcProxy.Bpf;

/// <summary>A libbpf or bpf() call failed. The message names the call, what it acted on and the errno.</summary>
public sealed class BpfException : Exception
{
    public BpfException(string message, int errno = 0, Exception? inner = null)
        : base(message, inner)
    {
        Errno = errno;
    }

    /// <summary>The positive errno of the failed call; 0 when the failure is not a syscall error.</summary>
    public int Errno { get; }

    /// <summary>"bpf_object__load(xdp_rx.bpf.o): Operation not permitted (EPERM)".</summary>
    internal static BpfException FromErrno(string call, string subject, int errno, string? detail = null)
    {
        string message = $"{call}({subject}): {SfcProxy.Errno.Describe(errno)}";
        return new BpfException(detail is null ? message : message + Environment.NewLine + detail, errno);
    }
}
