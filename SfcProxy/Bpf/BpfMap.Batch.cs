namespace SfcProxy.Bpf;

/// <summary>Where a batched walk of a map stands; start with a new one, stop when <see cref="Finished"/>.</summary>
public sealed class MapBatchCursor
{
    internal byte[]? Position { get; set; }

    /// <summary>The last <see cref="BpfMap.LookupBatch"/> reached the end of the map.</summary>
    public bool Finished { get; internal set; }
}

// Batched lookup, update and delete (BPF_MAP_LOOKUP_BATCH / _UPDATE_BATCH / _DELETE_BATCH): one
// syscall for many elements, for scanning, aging and preparing large caches.
public sealed unsafe partial class BpfMap
{
    /// <summary>
    /// Reads the next elements into <paramref name="keys"/> and <paramref name="values"/> (same length).
    /// Hash maps return whole buckets: if one bucket holds more elements than fit, the kernel fails
    /// with ENOSPC, so pass room for at least a few dozen.
    /// </summary>
    /// <returns>Elements read; the cursor says whether the map is exhausted.</returns>
    public int LookupBatch<TKey, TValue>(MapBatchCursor cursor, Span<TKey> keys, Span<TValue> values)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        ArgumentNullException.ThrowIfNull(cursor);
        CheckSizes<TKey, TValue>(perCpu: false);
        if (keys.Length != values.Length || keys.IsEmpty)
        {
            throw new ArgumentException($"{Subject}: keys and values need the same, non-zero length");
        }
        if (cursor.Finished)
        {
            return 0;
        }
        // The batch token is a bucket index for hash maps and a key for arrays.
        byte[] outBatch = new byte[Math.Max(KeySize, 8)];
        uint count = (uint)keys.Length;
        bool more;
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (byte* inBatch = cursor.Position)
        fixed (byte* o = outBatch)
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
        {
            more = Interop.LibBpf.MapLookupBatch(fd.Fd, Subject, inBatch, o, k, v, ref count);
        }
        cursor.Position = outBatch;
        cursor.Finished = !more;
        return (int)count;
    }

    /// <summary>Writes <paramref name="values"/> under <paramref name="keys"/> (same length) in one call.</summary>
    public int UpdateBatch<TKey, TValue>(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(perCpu: false);
        if (keys.Length != values.Length)
        {
            throw new ArgumentException($"{Subject}: keys and values need the same length");
        }
        if (keys.IsEmpty)
        {
            return 0;
        }
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
        {
            return (int)Interop.LibBpf.MapUpdateBatch(fd.Fd, Subject, k, v, (uint)keys.Length);
        }
    }

    /// <returns>How many of <paramref name="keys"/> were deleted, stopping at the first one missing.</returns>
    public int DeleteBatch<TKey>(ReadOnlySpan<TKey> keys)
        where TKey : unmanaged
    {
        CheckKey<TKey>();
        if (keys.IsEmpty)
        {
            return 0;
        }
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (TKey* k = keys)
        {
            return (int)Interop.LibBpf.MapDeleteBatch(fd.Fd, Subject, k, (uint)keys.Length);
        }
    }
}
