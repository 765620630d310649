namespace SfcProxy.Bpf;

/// <summary>enum bpf_map_type values the host creates maps of.</summary>
public static class BpfMapType
{
    public const uint Hash = 1, Array = 2, PerCpuArray = 6, LpmTrie = 11, ArrayOfMaps = 12, LruHash = 9;
}

/// <summary>Map creation flags (BPF_F_*).</summary>
public static class BpfMapFlags
{
    /// <summary>BPF_F_NO_PREALLOC: allocate elements on insert (required for LPM tries).</summary>
    public const uint NoPrealloc = 1;
}

// Maps the host creates itself (bpf_map_create) and map-in-map slots: how a table is built aside
// and swapped in with one update of the outer map.
public sealed unsafe partial class BpfMap
{
    /// <summary>
    /// Creates a map in the kernel, owned by the returned object (closed on dispose; the kernel
    /// frees it once no fd, pin or outer map holds it any more).
    /// </summary>
    /// <param name="type">enum bpf_map_type, see <see cref="BpfMapType"/>.</param>
    /// <param name="flags">BPF_F_* map flags, see <see cref="BpfMapFlags"/>.</param>
    /// <param name="name">Kernel name (at most 15 bytes are kept), also used in messages.</param>
    public static BpfMap Create(uint type, uint keySize, uint valueSize, uint maxEntries, uint flags, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        SafeFileDescriptorHandle fd = Interop.LibBpf.MapCreate(type, name, keySize, valueSize, maxEntries, flags);
        string subject = $"created map {name}";
        return new BpfMap(name, subject, new BorrowedFd(fd, fd.Fd, subject), fd, type, keySize, valueSize, maxEntries);
    }

    /// <summary>
    /// Puts <paramref name="inner"/> into slot <paramref name="index"/> of this map-in-map (one
    /// atomic update: a program's lookup sees the old inner map or the new one). The outer map
    /// keeps its own reference, so <paramref name="inner"/> may be disposed afterwards.
    /// </summary>
    public void SetInner(uint index, BpfMap inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (KeySize != sizeof(uint) || ValueSize != sizeof(uint))
        {
            throw new InvalidOperationException($"{Subject} is not a map-in-map (key {KeySize}, value {ValueSize} bytes)");
        }
        using BorrowedFd.FdLease outer = _fd.Lease();
        using BorrowedFd.FdLease innerFd = inner._fd.Lease();
        uint value = (uint)innerFd.Fd;
        Interop.LibBpf.MapUpdate(outer.Fd, $"{Subject}[{index}] <- {inner.Subject}", &index, &value, 0);
    }

    /// <summary>Empties slot <paramref name="index"/> of this map-in-map; false if it was empty.</summary>
    public bool ClearInner(uint index) => Delete(index);

    /// <summary>Whether slot <paramref name="index"/> of this map-in-map holds a map.</summary>
    public bool HasInner(uint index)
    {
        // A lookup from user space answers the inner map's id.
        return TryLookup(index, out uint _);
    }
}
