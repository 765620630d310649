using System.Runtime.InteropServices;
using SfcProxy;
using SfcProxy.Bpf;

// Classic tc attachment (clsact qdisc + direct-action filter) over netlink, for kernels without tcx.
internal static partial class Interop
{
    internal static unsafe partial class LibBpf
    {
        /// <summary>enum bpf_tc_attach_point.</summary>
        internal const int BPF_TC_INGRESS = 1;
        internal const int BPF_TC_EGRESS = 2;
        private const uint BPF_TC_F_REPLACE = 1;

        /// <summary>struct bpf_tc_hook (24 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TcHook
        {
            public nuint Size;
            public int IfIndex;
            public int AttachPoint;
            public uint Parent;
        }

        /// <summary>struct bpf_tc_opts (32 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TcOptions
        {
            public nuint Size;
            public int ProgFd;
            public uint Flags;
            public uint ProgId;
            public uint Handle;
            public uint Priority;
        }

        [LibraryImport(Library)]
        private static partial int bpf_tc_hook_create(TcHook* hook);

        [LibraryImport(Library)]
        private static partial int bpf_tc_hook_destroy(TcHook* hook);

        [LibraryImport(Library)]
        private static partial int bpf_tc_attach(TcHook* hook, TcOptions* opts);

        [LibraryImport(Library)]
        private static partial int bpf_tc_detach(TcHook* hook, TcOptions* opts);

        internal static TcHook NewTcHook(int ifindex, int attachPoint) =>
            new() { Size = (nuint)sizeof(TcHook), IfIndex = ifindex, AttachPoint = attachPoint };

        /// <returns>true if we created the clsact qdisc, false if it was already there.</returns>
        internal static bool TcHookCreate(TcHook hook, string subject)
        {
            int rc = bpf_tc_hook_create(&hook);
            if (rc == -Errno.EEXIST)
            {
                return false;
            }
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_tc_hook_create", subject, -rc);
            }
            return true;
        }

        /// <summary>Removes the whole clsact qdisc (both directions) and every filter on it.</summary>
        internal static void TcHookDestroy(int ifindex, string subject)
        {
            TcHook hook = NewTcHook(ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
            int rc = bpf_tc_hook_destroy(&hook);
            if (rc < 0 && rc != -Errno.ENOENT && rc != -Errno.EINVAL)
            {
                throw BpfException.FromErrno("bpf_tc_hook_destroy", subject, -rc);
            }
        }

        /// <returns>handle and priority the kernel chose, which identify the filter for detach and replace.</returns>
        internal static (uint Handle, uint Priority) TcAttach(TcHook hook, int progFd, uint handle, uint priority, bool replace, string subject)
        {
            TcOptions opts = new()
            {
                Size = (nuint)sizeof(TcOptions),
                ProgFd = progFd,
                Flags = replace ? BPF_TC_F_REPLACE : 0,
                Handle = handle,
                Priority = priority,
            };
            int rc = bpf_tc_attach(&hook, &opts);
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_tc_attach", subject, -rc);
            }
            return (opts.Handle, opts.Priority);
        }

        internal static void TcDetach(TcHook hook, uint handle, uint priority, string subject)
        {
            // Detach identifies the filter by handle and priority only; prog_fd must be 0.
            TcOptions opts = new() { Size = (nuint)sizeof(TcOptions), Handle = handle, Priority = priority };
            int rc = bpf_tc_detach(&hook, &opts);
            if (rc < 0 && rc != -Errno.ENOENT)
            {
                throw BpfException.FromErrno("bpf_tc_detach", subject, -rc);
            }
        }
    }
}
