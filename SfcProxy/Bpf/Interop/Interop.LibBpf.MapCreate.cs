using System.Runtime.InteropServices;
using SfcProxy;
using SfcProxy.Bpf;

// bpf_map_create (libbpf 1.x bpf.h): maps made by the host at run time, e.g. the inner maps a
// map-in-map swaps in.
internal static partial class Interop
{
    internal static unsafe partial class LibBpf
    {
        /// <summary>struct bpf_map_create_opts as of libbpf 1.1 (48 bytes); sz tells libbpf our size.</summary>
        [StructLayout(LayoutKind.Sequential)]
        private struct MapCreateOptions
        {
            public nuint Size;
            public uint BtfFd;
            public uint BtfKeyTypeId;
            public uint BtfValueTypeId;
            public uint BtfVmlinuxValueTypeId;
            public uint InnerMapFd;
            public uint MapFlags;
            public ulong MapExtra;
            public uint NumaNode;
            public uint MapIfindex;
        }

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int bpf_map_create(uint mapType, string? mapName, uint keySize, uint valueSize, uint maxEntries, MapCreateOptions* opts);

        internal static SafeFileDescriptorHandle MapCreate(uint type, string name, uint keySize, uint valueSize, uint maxEntries, uint flags)
        {
            var opts = new MapCreateOptions { Size = (nuint)sizeof(MapCreateOptions), MapFlags = flags };
            int fd = bpf_map_create(type, name, keySize, valueSize, maxEntries, &opts);
            if (fd < 0)
            {
                throw BpfException.FromErrno("bpf_map_create",
                    $"{name} (type {type}, key {keySize}, value {valueSize}, {maxEntries} entries, flags 0x{flags:x})", -fd);
            }
            return new SafeFileDescriptorHandle(fd);
        }
    }
}
