using System.Runtime.InteropServices;
using SfcProxy;
using SfcProxy.Bpf;

// Map element access and bpffs pins through libbpf's thin bpf() syscall wrappers (bpf.h). These
// return a negative errno on failure. "subject" names the map in messages.
internal static partial class Interop
{
    internal static unsafe partial class LibBpf
    {
        /// <summary>Prefix of struct bpf_map_info (linux/bpf.h); the kernel fills as much as we ask for.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct MapInfo
        {
            public uint Type;
            public uint Id;
            public uint KeySize;
            public uint ValueSize;
            public uint MaxEntries;
            public uint MapFlags;
            public fixed byte Name[16];
        }

        /// <summary>struct bpf_map_batch_opts.</summary>
        [StructLayout(LayoutKind.Sequential)]
        private struct MapBatchOptions
        {
            public nuint Size;
            public ulong ElemFlags;
            public ulong Flags;
        }

        [LibraryImport(Library)]
        private static partial int bpf_map_update_elem(int fd, void* key, void* value, ulong flags);

        [LibraryImport(Library)]
        private static partial int bpf_map_lookup_elem(int fd, void* key, void* value);

        [LibraryImport(Library)]
        private static partial int bpf_map_delete_elem(int fd, void* key);

        [LibraryImport(Library)]
        private static partial int bpf_map_get_next_key(int fd, void* key, void* nextKey);

        [LibraryImport(Library)]
        private static partial int bpf_map_lookup_batch(int fd, void* inBatch, void* outBatch, void* keys, void* values, uint* count, MapBatchOptions* opts);

        [LibraryImport(Library)]
        private static partial int bpf_map_update_batch(int fd, void* keys, void* values, uint* count, MapBatchOptions* opts);

        [LibraryImport(Library)]
        private static partial int bpf_map_delete_batch(int fd, void* keys, uint* count, MapBatchOptions* opts);

        [LibraryImport(Library)]
        private static partial int bpf_obj_get(byte* path);

        [LibraryImport(Library)]
        private static partial int bpf_obj_pin(int fd, byte* path);

        [LibraryImport(Library)]
        private static partial int bpf_obj_get_info_by_fd(int fd, void* info, uint* infoLength);

        internal static void MapUpdate(int fd, string subject, void* key, void* value, ulong flags)
        {
            int rc = bpf_map_update_elem(fd, key, value, flags);
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_map_update_elem", subject, -rc);
            }
        }

        /// <returns>false when the key is absent.</returns>
        internal static bool MapLookup(int fd, string subject, void* key, void* value)
        {
            int rc = bpf_map_lookup_elem(fd, key, value);
            if (rc == -Errno.ENOENT)
            {
                return false;
            }
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_map_lookup_elem", subject, -rc);
            }
            return true;
        }

        /// <returns>false when the key was absent.</returns>
        internal static bool MapDelete(int fd, string subject, void* key)
        {
            int rc = bpf_map_delete_elem(fd, key);
            if (rc == -Errno.ENOENT)
            {
                return false;
            }
            if (rc < 0)
            {
                // Arrays refuse deletion with EINVAL: their elements always exist.
                throw BpfException.FromErrno("bpf_map_delete_elem", subject, -rc);
            }
            return true;
        }

        /// <param name="key">null for the first key.</param>
        /// <returns>false after the last key.</returns>
        internal static bool MapNextKey(int fd, string subject, void* key, void* nextKey)
        {
            int rc = bpf_map_get_next_key(fd, key, nextKey);
            if (rc == -Errno.ENOENT)
            {
                return false;
            }
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_map_get_next_key", subject, -rc);
            }
            return true;
        }

        /// <summary>One bpf_map_lookup_batch step.</summary>
        /// <param name="inBatch">null on the first call, then the previous outBatch.</param>
        /// <param name="count">in: capacity of keys/values; out: elements returned.</param>
        /// <returns>false when the map has been walked to its end (count may still be &gt; 0).</returns>
        internal static bool MapLookupBatch(int fd, string subject, void* inBatch, void* outBatch, void* keys, void* values, ref uint count)
        {
            MapBatchOptions opts = new() { Size = (nuint)sizeof(MapBatchOptions) };
            uint n = count;
            int rc = bpf_map_lookup_batch(fd, inBatch, outBatch, keys, values, &n, &opts);
            count = n;
            if (rc == -Errno.ENOENT)
            {
                return false;
            }
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_map_lookup_batch", subject, -rc);
            }
            return true;
        }

        /// <returns>How many elements were written (all of them, or the call throws).</returns>
        internal static uint MapUpdateBatch(int fd, string subject, void* keys, void* values, uint count)
        {
            MapBatchOptions opts = new() { Size = (nuint)sizeof(MapBatchOptions) };
            uint n = count;
            int rc = bpf_map_update_batch(fd, keys, values, &n, &opts);
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_map_update_batch", subject, -rc);
            }
            return n;
        }

        /// <returns>How many keys were deleted; a missing key fails the call with ENOENT after the ones before it.</returns>
        internal static uint MapDeleteBatch(int fd, string subject, void* keys, uint count)
        {
            MapBatchOptions opts = new() { Size = (nuint)sizeof(MapBatchOptions) };
            uint n = count;
            int rc = bpf_map_delete_batch(fd, keys, &n, &opts);
            if (rc < 0 && rc != -Errno.ENOENT)
            {
                throw BpfException.FromErrno("bpf_map_delete_batch", subject, -rc);
            }
            return n;
        }

        internal static SafeFileDescriptorHandle ObjGet(string path)
        {
            int fd;
            fixed (byte* p = Utf8z(path))
            {
                fd = bpf_obj_get(p);
            }
            if (fd < 0)
            {
                throw BpfException.FromErrno("bpf_obj_get", path, -fd);
            }
            return new SafeFileDescriptorHandle(fd);
        }

        internal static void ObjPin(int fd, string subject, string path)
        {
            int rc;
            fixed (byte* p = Utf8z(path))
            {
                rc = bpf_obj_pin(fd, p);
            }
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_obj_pin", $"{subject} -> {path}", -rc);
            }
        }

        internal static MapInfo MapInfoOf(int fd, string subject)
        {
            MapInfo info = default;
            uint length = (uint)sizeof(MapInfo);
            int rc = bpf_obj_get_info_by_fd(fd, &info, &length);
            if (rc < 0)
            {
                throw BpfException.FromErrno("bpf_obj_get_info_by_fd", subject, -rc);
            }
            return info;
        }
    }
}
