using System.Runtime.InteropServices;
using SfcProxy;
using SfcProxy.Bpf;

// What an object pins, and which program a link runs: for removing exactly the pins a module made,
// and for putting a link's earlier program back when a take-over has to be undone.
internal static partial class Interop
{
    internal static unsafe partial class LibBpf
    {
        /// <summary>The start of struct bpf_link_info: type, id, prog_id.</summary>
        [StructLayout(LayoutKind.Sequential)]
        private struct LinkInfoHead
        {
            public uint Type;
            public uint Id;
            public uint ProgId;
        }

        [LibraryImport(Library)]
        private static partial nint bpf_object__next_map(SafeBpfObjectHandle obj, nint previous);

        [LibraryImport(Library)]
        private static partial byte* bpf_map__name(nint map);

        [LibraryImport(Library)]
        private static partial byte* bpf_map__pin_path(nint map);

        [LibraryImport(Library)]
        private static partial int bpf_prog_get_fd_by_id(uint id);

        /// <summary>Names of every map of the object.</summary>
        internal static List<string> MapNames(SafeBpfObjectHandle obj)
        {
            var names = new List<string>();
            for (nint map = bpf_object__next_map(obj, 0); map != 0; map = bpf_object__next_map(obj, map))
            {
                if (Marshal.PtrToStringUTF8((nint)bpf_map__name(map)) is { } name)
                    names.Add(name);
            }
            return names;
        }

        /// <summary>Names of the object's maps that libbpf pins by name (LIBBPF_PIN_BY_NAME).</summary>
        internal static List<string> PinnedMapNames(SafeBpfObjectHandle obj)
        {
            var names = new List<string>();
            for (nint map = bpf_object__next_map(obj, 0); map != 0; map = bpf_object__next_map(obj, map))
            {
                if (bpf_map__pin_path(map) is not null && Marshal.PtrToStringUTF8((nint)bpf_map__name(map)) is { } name)
                    names.Add(name);
            }
            return names;
        }

        /// <summary>An fd of the program a link runs now (it keeps the program alive).</summary>
        internal static SafeFileDescriptorHandle LinkProgram(int linkFd, string subject)
        {
            LinkInfoHead info = default;
            uint length = (uint)sizeof(LinkInfoHead);
            int rc = bpf_obj_get_info_by_fd(linkFd, &info, &length);
            if (rc < 0)
                throw BpfException.FromErrno("bpf_obj_get_info_by_fd", subject, -rc);
            int fd = bpf_prog_get_fd_by_id(info.ProgId);
            if (fd < 0)
                throw BpfException.FromErrno("bpf_prog_get_fd_by_id", $"{subject} (prog id {info.ProgId})", -fd);
            return new SafeFileDescriptorHandle(fd);
        }
    }
}
