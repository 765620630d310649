using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Text;

namespace SfcProxy.Bpf;

/// <summary>
/// Typed access to a BPF map. Keys and values are unmanaged structs laid out like the C side
/// (see Datapath/SharedTypes.cs); their sizes are checked against the map on every call.
/// A map from <see cref="BpfObject.Map"/> lives as long as its object; one from
/// <see cref="OpenPinned"/> holds its own fd until disposed.
/// </summary>
public sealed unsafe partial class BpfMap : IDisposable
{
    // enum bpf_map_type values whose elements hold one value per possible CPU.
    private const uint PerCpuHash = 5, PerCpuArray = 6, LruPerCpuHash = 10, PerCpuCgroupStorage = 21;

    private static readonly Lazy<int> PossibleCpus = new(Interop.LibBpf.NumPossibleCpus);

    private readonly BorrowedFd _fd;
    private readonly SafeFileDescriptorHandle? _ownedFd;

    internal BpfMap(string name, string subject, BorrowedFd fd, SafeFileDescriptorHandle? ownedFd,
        uint type, uint keySize, uint valueSize, uint maxEntries)
    {
        Name = name;
        Subject = subject;
        _fd = fd;
        _ownedFd = ownedFd;
        Type = type;
        KeySize = keySize;
        ValueSize = valueSize;
        MaxEntries = maxEntries;
    }

    public string Name { get; }
    public uint KeySize { get; }
    /// <summary>Size of one value; per-CPU maps hold <see cref="PossibleCpuCount"/> of them per key.</summary>
    public uint ValueSize { get; }
    public uint MaxEntries { get; }
    /// <summary>enum bpf_map_type.</summary>
    public uint Type { get; }
    public bool IsPerCpu => Type is PerCpuHash or PerCpuArray or LruPerCpuHash or PerCpuCgroupStorage;

    /// <summary>Number of values in a per-CPU element (libbpf_num_possible_cpus).</summary>
    public static int PossibleCpuCount => PossibleCpus.Value;

    /// <summary>"object.bpf.o/map" or the pin path, for messages.</summary>
    internal string Subject { get; }

    /// <summary>Opens a map pinned on bpffs (by this or another process) and reads its sizes from the kernel.</summary>
    public static BpfMap OpenPinned(string path)
    {
        SafeFileDescriptorHandle fd = Interop.LibBpf.ObjGet(path);
        try
        {
            Interop.LibBpf.MapInfo info = Interop.LibBpf.MapInfoOf(fd.Fd, path);
            string name = Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(info.Name));
            return new BpfMap(name, path, new BorrowedFd(fd, fd.Fd, path), fd,
                info.Type, info.KeySize, info.ValueSize, info.MaxEntries);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public bool TryLookup<TKey, TValue>(in TKey key, out TValue value)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(perCpu: false);
        TValue result;
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (TKey* k = &key)
        {
            bool found = Interop.LibBpf.MapLookup(fd.Fd, Subject, k, &result);
            value = found ? result : default;
            return found;
        }
    }

    public void Update<TKey, TValue>(in TKey key, in TValue value, MapUpdateFlags flags = MapUpdateFlags.Any)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(perCpu: false);
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
        {
            Interop.LibBpf.MapUpdate(fd.Fd, Subject, k, v, (ulong)flags);
        }
    }

    /// <returns>false if the key was not there.</returns>
    public bool Delete<TKey>(in TKey key)
        where TKey : unmanaged
    {
        CheckKey<TKey>();
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (TKey* k = &key)
        {
            return Interop.LibBpf.MapDelete(fd.Fd, Subject, k);
        }
    }

    /// <summary>
    /// Walks the keys with BPF_MAP_GET_NEXT_KEY, lazily. Concurrent deletes by the datapath can make a
    /// hash map walk restart from the first key, so a key may be seen twice.
    /// </summary>
    public IEnumerable<TKey> Keys<TKey>()
        where TKey : unmanaged
    {
        CheckKey<TKey>();
        return WalkKeys<TKey>();
    }

    /// <summary>Number of keys present (walks the map; arrays always report MaxEntries).</summary>
    public int Count()
    {
        byte[] current = new byte[KeySize];
        byte[] next = new byte[KeySize];
        int count = 0;
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (byte* c = current)
        fixed (byte* n = next)
        {
            byte* previous = null;
            while (Interop.LibBpf.MapNextKey(fd.Fd, Subject, previous, n))
            {
                count++;
                Buffer.MemoryCopy(n, c, KeySize, KeySize);
                previous = c;
            }
        }
        return count;
    }

    /// <summary>One value per possible CPU, e.g. to sum per-CPU counters.</summary>
    public TValue[] LookupPerCpu<TKey, TValue>(in TKey key)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(perCpu: true);
        int stride = PerCpuStride;
        byte[] raw = new byte[stride * PossibleCpuCount];
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (TKey* k = &key)
        fixed (byte* r = raw)
        {
            if (!Interop.LibBpf.MapLookup(fd.Fd, Subject, k, r))
            {
                throw new KeyNotFoundException($"{Subject}: key not found");
            }
        }
        var values = new TValue[PossibleCpuCount];
        for (int cpu = 0; cpu < values.Length; cpu++)
        {
            values[cpu] = Unsafe.ReadUnaligned<TValue>(ref raw[cpu * stride]);
        }
        return values;
    }

    /// <summary>Sets every CPU's value of a per-CPU element; <paramref name="values"/> has one per possible CPU.</summary>
    public void UpdatePerCpu<TKey, TValue>(in TKey key, ReadOnlySpan<TValue> values, MapUpdateFlags flags = MapUpdateFlags.Any)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(perCpu: true);
        if (values.Length != PossibleCpuCount)
        {
            throw new ArgumentException($"{Subject}: need {PossibleCpuCount} values (one per possible CPU), got {values.Length}", nameof(values));
        }
        int stride = PerCpuStride;
        byte[] raw = new byte[stride * values.Length];
        for (int cpu = 0; cpu < values.Length; cpu++)
        {
            Unsafe.WriteUnaligned(ref raw[cpu * stride], values[cpu]);
        }
        using BorrowedFd.FdLease fd = _fd.Lease();
        fixed (TKey* k = &key)
        fixed (byte* r = raw)
        {
            Interop.LibBpf.MapUpdate(fd.Fd, Subject, k, r, (ulong)flags);
        }
    }

    /// <summary>Closes the fd of a map opened from a pin; a no-op for maps owned by a <see cref="BpfObject"/>.</summary>
    /// <summary>Pins the map at <paramref name="path"/> on bpffs (BPF_OBJ_PIN).</summary>
    public void Pin(string path)
    {
        using BorrowedFd.FdLease fd = _fd.Lease();
        Interop.LibBpf.ObjPin(fd.Fd, Subject, path);
    }

    public void Dispose() => _ownedFd?.Dispose();

    // The kernel copies per-CPU values at 8-byte strides (bpf_long_memcpy / round_up(value_size, 8)).
    private int PerCpuStride => (int)((ValueSize + 7) & ~7u);

    private IEnumerable<TKey> WalkKeys<TKey>()
        where TKey : unmanaged
    {
        TKey current = default;
        bool first = true;
        while (NextKey(first, current, out TKey next))
        {
            yield return next;
            current = next;
            first = false;
        }
    }

    private bool NextKey<TKey>(bool first, TKey current, out TKey next)
        where TKey : unmanaged
    {
        TKey result;
        using BorrowedFd.FdLease fd = _fd.Lease();
        bool more = Interop.LibBpf.MapNextKey(fd.Fd, Subject, first ? null : &current, &result);
        next = more ? result : default;
        return more;
    }

    private void CheckKey<TKey>()
        where TKey : unmanaged
    {
        if (sizeof(TKey) != KeySize)
        {
            throw new ArgumentException($"{Subject}: key type {typeof(TKey).Name} is {sizeof(TKey)} bytes, the map's keys are {KeySize}");
        }
    }

    private void CheckSizes<TKey, TValue>(bool perCpu)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckKey<TKey>();
        if (sizeof(TValue) != ValueSize)
        {
            throw new ArgumentException($"{Subject}: value type {typeof(TValue).Name} is {sizeof(TValue)} bytes, the map's values are {ValueSize}");
        }
        if (perCpu != IsPerCpu)
        {
            throw new InvalidOperationException(perCpu
                ? $"{Subject} is not a per-CPU map; use TryLookup/Update"
                : $"{Subject} is a per-CPU map; use LookupPerCpu/UpdatePerCpu");
        }
    }
}
