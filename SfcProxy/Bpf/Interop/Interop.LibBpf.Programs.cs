using System.Runtime.InteropServices;
using SfcProxy;
using SfcProxy.Bpf;

// Program test runs and kernel bpf_links. Links are created with bpf_link_create and held as fds:
// libbpf 1.1 has no tcx API and cannot wrap an existing link fd in a struct bpf_link, so one fd
// based link type covers XDP (with an explicit mode) and tcx alike.
internal static partial class Interop
{
    internal static unsafe partial class LibBpf
    {
        /// <summary>enum bpf_attach_type values we attach with.</summary>
        internal const uint BPF_XDP = 37;
        // Newer than libbpf 1.1's headers; the kernel (6.6+) knows them.
        internal const uint BPF_TCX_INGRESS = 46;
        internal const uint BPF_TCX_EGRESS = 47;

        /// <summary>struct bpf_test_run_opts as of libbpf 1.1 (80 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct TestRunOptions
        {
            public nuint Size;
            public void* DataIn;
            public void* DataOut;
            public uint DataSizeIn;
            public uint DataSizeOut; // in: capacity of DataOut; out: bytes written
            public void* ContextIn;
            public void* ContextOut;
            public uint ContextSizeIn;
            public uint ContextSizeOut; // in: capacity of ContextOut; out: bytes written
            public uint ReturnValue;
            public int Repeat;
            public uint Duration; // average ns per repetition
            public uint Flags;
            public uint Cpu;
            public uint BatchSize;
        }

        /// <summary>struct bpf_link_create_opts of libbpf 1.1, cut after flags: libbpf accepts a smaller sz.</summary>
        [StructLayout(LayoutKind.Sequential)]
        private struct LinkCreateOptions
        {
            public nuint Size;
            public uint Flags;
        }

        [LibraryImport(Library)]
        private static partial int bpf_prog_test_run_opts(int progFd, TestRunOptions* opts);

        [LibraryImport(Library)]
        private static partial int bpf_link_create(int progFd, int targetFd, uint attachType, LinkCreateOptions* opts);

        [LibraryImport(Library)]
        private static partial int bpf_link_update(int linkFd, int newProgFd, void* opts);

        [LibraryImport(Library)]
        private static partial int bpf_link_detach(int linkFd);

        internal static void ProgramTestRun(int progFd, string subject, ref TestRunOptions opts)
        {
            opts.Size = (nuint)sizeof(TestRunOptions);
            int rc;
            fixed (TestRunOptions* o = &opts)
            {
                rc = bpf_prog_test_run_opts(progFd, o);
            }
            if (rc < 0)
            {
                // ENOSPC: data_out or ctx_out too small for what the program produced.
                throw BpfException.FromErrno("bpf_prog_test_run_opts", subject, -rc);
            }
        }

        /// <param name="target">ifindex for XDP and tcx.</param>
        /// <param name="flags">XDP_FLAGS_* for XDP; 0 for tcx (append after existing programs).</param>
        internal static SafeFileDescriptorHandle LinkCreate(int progFd, int target, uint attachType, uint flags, string subject)
        {
            LinkCreateOptions opts = new() { Size = (nuint)sizeof(LinkCreateOptions), Flags = flags };
            int fd = bpf_link_create(progFd, target, attachType, &opts);
            if (fd < 0)
            {
                throw BpfException.FromErrno("bpf_link_create", subject, -fd);
            }
            return new SafeFileDescriptorHandle(fd);
        }

        /// <summary>Atomically swaps the program behind a link; maps the new program uses stay as they are.</summary>
        internal static void LinkUpdate(int linkFd, int newProgFd, string subject)
        {
            int rc = bpf_link_update(linkFd, newProgFd, null);
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_link_update", subject, -rc);
            }
        }

        /// <summary>Detaches a link even while other fds or pins still hold it.</summary>
        internal static void LinkDetach(int linkFd, string subject)
        {
            int rc = bpf_link_detach(linkFd);
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_link_detach", subject, -rc);
            }
        }
    }
}
