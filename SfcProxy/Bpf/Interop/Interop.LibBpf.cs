using System.Runtime.InteropServices;
using SfcProxy;
using SfcProxy.Bpf;

// libbpf 1.1 object, program and map-definition calls. libbpf 1.x reports errors as a negative
// errno return value (int calls) or NULL with errno set (pointer calls); the wrappers below turn
// both into a BpfException that names the call and the object.
//
// libbpf prints its own warnings to stderr unless LibBpfLog redirects them. Verifier logs of a
// failed load do not go through that callback: they are captured in
// bpf_object_open_opts.kernel_log_buf and put into the exception (see BpfObject).
internal static partial class Interop
{
    internal static unsafe partial class LibBpf
    {
        internal const string Library = "libbpf.so.1";

        /// <summary>struct bpf_object_open_opts as of libbpf 1.1 (80 bytes); sz tells newer libbpfs our size.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct ObjectOpenOptions
        {
            public nuint Size;
            public byte* ObjectName;
            public byte RelaxedMaps;
            public byte* PinRootPath;
            public uint ReservedAttachProgFd; // removed attach_prog_fd, must stay 0
            public byte* Kconfig;
            public byte* BtfCustomPath;
            public byte* KernelLogBuffer;
            public nuint KernelLogSize;
            public uint KernelLogLevel;
        }

        [LibraryImport(Library, SetLastError = true)]
        private static partial SafeBpfObjectHandle bpf_object__open_file(byte* path, ObjectOpenOptions* opts);

        [LibraryImport(Library)]
        private static partial int bpf_object__load(SafeBpfObjectHandle obj);

        [LibraryImport(Library)]
        private static partial void bpf_object__close(nint obj);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        private static partial nint bpf_object__find_program_by_name(SafeBpfObjectHandle obj, string name);

        [LibraryImport(Library)]
        private static partial int bpf_program__fd(nint prog);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        private static partial nint bpf_object__find_map_by_name(SafeBpfObjectHandle obj, string name);

        [LibraryImport(Library)]
        private static partial int bpf_map__fd(nint map);

        [LibraryImport(Library)]
        private static partial int bpf_map__set_max_entries(nint map, uint maxEntries);

        [LibraryImport(Library)]
        private static partial uint bpf_map__max_entries(nint map);

        [LibraryImport(Library)]
        private static partial uint bpf_map__key_size(nint map);

        [LibraryImport(Library)]
        private static partial uint bpf_map__value_size(nint map);

        [LibraryImport(Library)]
        private static partial uint bpf_map__type(nint map);

        [LibraryImport(Library)]
        private static partial int libbpf_num_possible_cpus();

        /// <summary>Sizes and type of a map as libbpf sees it (before load: from the ELF, after: as created).</summary>
        internal readonly record struct MapDefinition(uint Type, uint KeySize, uint ValueSize, uint MaxEntries);

        /// <param name="opts">Strings and the log buffer it points at must outlive the returned handle's load.</param>
        internal static SafeBpfObjectHandle ObjectOpenFile(string path, ref ObjectOpenOptions opts)
        {
            opts.Size = (nuint)sizeof(ObjectOpenOptions);
            byte[] pathBytes = Utf8z(path);
            SafeBpfObjectHandle obj;
            fixed (byte* p = pathBytes)
            fixed (ObjectOpenOptions* o = &opts)
            {
                obj = bpf_object__open_file(p, o);
            }
            if (obj.IsInvalid)
            {
                int errno = Marshal.GetLastPInvokeError();
                obj.Dispose();
                throw BpfException.FromErrno("bpf_object__open_file", path, errno);
            }
            return obj;
        }

        internal static void ObjectLoad(SafeBpfObjectHandle obj, string objectName, Func<string?> verifierLog)
        {
            int rc = bpf_object__load(obj);
            if (rc < 0)
            {
                string? log = verifierLog();
                throw BpfException.FromErrno("bpf_object__load", objectName, -rc,
                    string.IsNullOrWhiteSpace(log) ? null : "Kernel log of the last load attempt:" + Environment.NewLine + log);
            }
        }

        internal static void ObjectClose(nint obj) => bpf_object__close(obj);

        /// <summary>The fd of a loaded program; owned by the object.</summary>
        internal static int ProgramFd(SafeBpfObjectHandle obj, string objectName, string programName)
        {
            nint prog = bpf_object__find_program_by_name(obj, programName);
            if (prog == 0)
            {
                throw new BpfException($"bpf_object__find_program_by_name({objectName}, {programName}): no program '{programName}' in {objectName}", Errno.ENOENT);
            }
            int fd = bpf_program__fd(prog);
            if (fd < 0)
            {
                throw BpfException.FromErrno("bpf_program__fd", $"{objectName}/{programName}", -fd, "Load() the object before using its programs.");
            }
            return fd;
        }

        /// <summary>The fd of a created map; owned by the object.</summary>
        internal static int MapFd(SafeBpfObjectHandle obj, string objectName, string mapName)
        {
            int fd = bpf_map__fd(FindMap(obj, objectName, mapName));
            if (fd < 0)
            {
                throw BpfException.FromErrno("bpf_map__fd", $"{objectName}/{mapName}", -fd, "Load() the object before using its maps.");
            }
            return fd;
        }

        internal static MapDefinition MapDefinitionOf(SafeBpfObjectHandle obj, string objectName, string mapName)
        {
            nint map = FindMap(obj, objectName, mapName);
            return new MapDefinition(bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map));
        }

        internal static void MapSetMaxEntries(SafeBpfObjectHandle obj, string objectName, string mapName, uint maxEntries)
        {
            int rc = bpf_map__set_max_entries(FindMap(obj, objectName, mapName), maxEntries);
            if (rc < 0)
            {
                // EBUSY: the object is already loaded.
                throw BpfException.FromErrno("bpf_map__set_max_entries", $"{objectName}/{mapName}, {maxEntries}", -rc);
            }
        }

        internal static int NumPossibleCpus()
        {
            int n = libbpf_num_possible_cpus();
            if (n < 0)
            {
                throw BpfException.FromErrno("libbpf_num_possible_cpus", "/sys/devices/system/cpu/possible", -n);
            }
            return n;
        }

        private static nint FindMap(SafeBpfObjectHandle obj, string objectName, string mapName)
        {
            nint map = bpf_object__find_map_by_name(obj, mapName);
            if (map == 0)
            {
                throw new BpfException($"bpf_object__find_map_by_name({objectName}, {mapName}): no map '{mapName}' in {objectName}", Errno.ENOENT);
            }
            return map;
        }

        internal static byte[] Utf8z(string s)
        {
            byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
            System.Text.Encoding.UTF8.GetBytes(s, bytes);
            return bytes;
        }
    }
}
