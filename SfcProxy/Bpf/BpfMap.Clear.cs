namespace SfcProxy.Bpf;

// Emptying a map in place: what a freshly created map holds, without creating it again. The tests'
// pool of loaded datapaths uses it, since the verifier's pass over a large program costs far more
// than clearing its maps.
public sealed unsafe partial class BpfMap
{
    // enum bpf_map_type values Clear knows how to empty.
    private const uint HashType = 1, ArrayType = 2, LruHash = 9, DevMap = 14;

    /// <summary>
    /// Returns the map to the state it was created in: every key of a hash map deleted, every element
    /// of an array zeroed (every CPU's value of a per-CPU array), every slot of a device map emptied.
    /// Other map types are refused rather than half-cleared.
    /// </summary>
    public void Clear()
    {
        switch (Type)
        {
            case ArrayType or PerCpuArray:
                ZeroArray();
                break;
            case HashType or PerCpuHash or LruHash or LruPerCpuHash:
                DeleteAllKeys();
                break;
            case DevMap:
                EmptySlots();
                break;
            default:
                throw new NotSupportedException($"{Subject}: cannot clear a map of type {Type}");
        }
    }

    private void ZeroArray()
    {
        const uint chunk = 256;
        int elementBytes = IsPerCpu ? PerCpuStride * PossibleCpuCount : (int)ValueSize;
        uint[] keys = new uint[chunk];
        byte[] zeros = new byte[elementBytes * (int)chunk];
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (uint* k = keys)
        fixed (byte* v = zeros)
        {
            for (uint first = 0; first < MaxEntries; first += chunk)
            {
                uint n = Math.Min(chunk, MaxEntries - first);
                for (uint i = 0; i < n; i++)
                    keys[i] = first + i;
                Interop.LibBpf.MapUpdateBatch(fd.Fd, Subject, k, v, n);
            }
        }
    }

    // A device map's slots are indexes that always exist; deleting one empties it (ENOENT: empty already).
    private void EmptySlots()
    {
        using BorrowedFd.FdLease fd = _fd.Lease();
        for (uint i = 0; i < MaxEntries; i++)
            Interop.LibBpf.MapDelete(fd.Fd, Subject, &i);
    }

    private void DeleteAllKeys()
    {
        byte[] key = new byte[KeySize];
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (byte* k = key)
        {
            // Always the first key: deleting the one a walk stands on would restart the walk anyway.
            while (Interop.LibBpf.MapNextKey(fd.Fd, Subject, null, k))
                Interop.LibBpf.MapDelete(fd.Fd, Subject, k);
        }
    }

    /// <summary>
    /// Writes one element from raw bytes (a per-CPU map's value: every possible CPU's, each at its
    /// 8-byte stride): how a test puts something in a map of any value type, e.g. to prove that
    /// <see cref="Clear"/> takes it out.
    /// </summary>
    internal void UpdateBytes(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int valueBytes = IsPerCpu ? PerCpuStride * PossibleCpuCount : (int)ValueSize;
        if (key.Length != KeySize || value.Length != valueBytes)
            throw new ArgumentException($"{Subject}: a key of {KeySize} and a value of {valueBytes} bytes, got {key.Length} and {value.Length}");
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (byte* k = key)
        fixed (byte* v = value)
            Interop.LibBpf.MapUpdate(fd.Fd, Subject, k, v, 0);
    }

    /// <summary>
    /// Every element's key and value bytes in the kernel's key order (an empty device-map slot as
    /// its key alone): for comparing a cleared map with a freshly created one.
    /// </summary>
    internal byte[] Snapshot()
    {
        int valueBytes = IsPerCpu ? PerCpuStride * PossibleCpuCount : (int)ValueSize;
        byte[] key = new byte[KeySize];
        byte[] value = new byte[valueBytes];
        var all = new List<byte>();
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            bool first = true;
            while (Interop.LibBpf.MapNextKey(fd.Fd, Subject, first ? null : k, k))
            {
                first = false;
                all.AddRange(key);
                if (Interop.LibBpf.MapLookup(fd.Fd, Subject, k, v))
                    all.AddRange(value);
            }
        }
        return [.. all];
    }
}
